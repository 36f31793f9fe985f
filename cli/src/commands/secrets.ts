import { readFileSync } from "node:fs";
import { int, parse, positionals } from "../args";
import { authedSession, group } from "../command";
import { CliError, out, printJson, printTable, promptHidden, readStdin, unwrap, usageError, warn } from "../io";
import { CMEK_OPTION, cmekKeyText } from "../cmek";
import { resolveVault } from "../vault-ref";
import type { SecretType } from "../../../lib/sdk";

async function target(argv: string[], names: string[], extra: Parameters<typeof parse>[1] = {}) {
  const parsed = parse(argv, extra);
  const pos = positionals(parsed.positionals, names);
  const { client } = authedSession(parsed.values.url);
  return { values: parsed.values, client, vaultId: await resolveVault(client, pos[0]!), path: pos[1]! };
}

/** The value to store, never from argv unless explicitly asked (argv is visible to every local user). */
async function valueFrom(values: Record<string, unknown>): Promise<string> {
  const sources = ["value", "value-stdin", "value-file"].filter((k) => values[k] !== undefined && values[k] !== false);
  if (sources.length > 1) throw usageError("give only one of --value-stdin, --value-file, --value");
  if (values["value-file"] !== undefined) {
    try {
      return readFileSync(values["value-file"] as string, "utf8");
    } catch (e) {
      throw new CliError(`cannot read ${values["value-file"] as string}: ${(e as NodeJS.ErrnoException).code ?? "error"}`);
    }
  }
  if (values.value !== undefined) {
    warn("warning: --value is visible in your shell history and to other users via ps; prefer --value-stdin or --value-file");
    return values.value as string;
  }
  if (values["value-stdin"] || !process.stdin.isTTY) {
    const value = (await readStdin()).replace(/\r?\n$/, "");
    // Most likely a forgotten pipe; an empty secret is never what was meant.
    if (value === "") throw usageError("no value on stdin (pipe it in, or use --value-file)");
    return value;
  }
  return promptHidden("Value: ");
}

export const secrets = group("secrets", "Read and write secrets", {
  list: {
    usage: "list VAULT [--prefix PREFIX]",
    summary: "List secret paths, types and versions (never values)",
    async run(argv) {
      const parsed = parse(argv, { prefix: { type: "string" } });
      const [ref] = positionals(parsed.positionals, ["VAULT"]);
      const { client } = authedSession(parsed.values.url);
      const data = unwrap(await client.secrets.list(await resolveVault(client, ref!), parsed.values.prefix));
      if (parsed.values.json) return void printJson(data);
      printTable(["PATH", "TYPE", "VERSION", "EXPIRES"], data.secrets.map((s) => [s.path, s.type, s.version, s.expires_at ?? "-"]));
    },
  },
  get: {
    usage: "get VAULT PATH [--cmek-key-file FILE]",
    summary: "Print the secret's value followed by a newline (--json: the whole record); a CMEK vault's value is decrypted here with --cmek-key-file (or TALON_CMEK_KEY_FILE)",
    async run(argv) {
      const { values, client, vaultId, path } = await target(argv, ["VAULT", "PATH"], CMEK_OPTION);
      const cmekKey = cmekKeyText(values["cmek-key-file"]);
      const secret = unwrap(await client.secrets.get(vaultId, path, { cmekKey }));
      if (secret.cmek_encrypted && cmekKey === undefined) warn("warning: this value is encrypted with the vault's customer key; pass --cmek-key-file to decrypt it");
      if (values.json) printJson(secret);
      else process.stdout.write(`${secret.value}\n`);
    },
  },
  put: {
    usage: "put VAULT PATH [--type TYPE] [--value-stdin | --value-file FILE] [--expires-at ISO] [--max-access-count N] [--cmek-key-file FILE]",
    summary:
      "Store a new version. The value comes from stdin (piped, one trailing newline dropped), a file (as is), or a hidden prompt; --value VALUE works but warns",
    async run(argv) {
      const { values, client, vaultId, path } = await target(argv, ["VAULT", "PATH"], {
        type: { type: "string" },
        value: { type: "string" },
        "value-stdin": { type: "boolean" },
        "value-file": { type: "string" },
        "expires-at": { type: "string" },
        "max-access-count": { type: "string" },
        ...CMEK_OPTION,
      });
      const value = await valueFrom(values);
      const written = unwrap(
        await client.secrets.set(vaultId, path, value, {
          type: values.type as SecretType | undefined,
          expires_at: values["expires-at"] as string | undefined,
          max_access_count: int("max-access-count", values["max-access-count"] as string | undefined),
          cmekKey: cmekKeyText(values["cmek-key-file"]),
        }),
      );
      if (values.json) printJson(written);
      else out(`${written.path} version ${written.version}`);
    },
  },
  rm: {
    usage: "rm VAULT PATH",
    summary: "Delete a secret (every version)",
    async run(argv) {
      const { values, client, vaultId, path } = await target(argv, ["VAULT", "PATH"]);
      unwrap(await client.secrets.delete(vaultId, path));
      if (values.json) printJson({ deleted: path });
    },
  },
  versions: {
    usage: "versions VAULT PATH",
    summary: "List a secret's versions (metadata only)",
    async run(argv) {
      const { values, client, vaultId, path } = await target(argv, ["VAULT", "PATH"]);
      const data = unwrap(await client.secrets.versions(vaultId, path));
      if (values.json) return void printJson(data);
      printTable(["VERSION", "TYPE", "CREATED", "BY", "DISABLED"], data.versions.map((v) => [v.version, v.type, v.created_at, v.created_by, v.is_disabled ? "yes" : "no"]));
    },
  },
});
