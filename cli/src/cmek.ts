import { readFileSync } from "node:fs";
import { CliError } from "./io";

/** The option every command reading or writing values takes: a CMEK vault's key file (docs/cmek.md). */
export const CMEK_OPTION = { "cmek-key-file": { type: "string" } } as const;

/**
 * The key file's text from `--cmek-key-file`, else from TALON_CMEK_KEY_FILE; undefined when neither is
 * set. Only the file's path ever appears in a message, never its content.
 */
export function cmekKeyText(flag: unknown): string | undefined {
  const file = typeof flag === "string" ? flag : process.env.TALON_CMEK_KEY_FILE || undefined;
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new CliError(`cannot read the CMEK key file ${file}: ${(e as NodeJS.ErrnoException).code ?? "error"}`);
  }
}

export const CMEK_HELP = "--cmek-key-file FILE (or TALON_CMEK_KEY_FILE): a CMEK vault's key; values are encrypted and decrypted here, never on the server";
