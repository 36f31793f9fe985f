/** Argument parsing on node:util's parseArgs: unknown options and missing values are usage errors. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { usageError } from "./io";

export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

/** Options every command accepts. */
export const GLOBAL_OPTIONS = {
  url: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  "x402-key-file": { type: "string" },
  "x402-max-amount": { type: "string" },
} as const satisfies OptionSpec;

/** The x402 flags of this run (see ./x402): read by the session, so every command can pay past the quota. */
export const paymentFlags: { keyFile?: string; maxAmount?: string } = {};

export function parse<O extends OptionSpec>(argv: string[], options: O) {
  try {
    const parsed = parseArgs({ args: argv, options: { ...GLOBAL_OPTIONS, ...options }, allowPositionals: true, strict: true });
    const v = parsed.values as Record<string, unknown>;
    if (typeof v["x402-key-file"] === "string") paymentFlags.keyFile = v["x402-key-file"];
    if (typeof v["x402-max-amount"] === "string") paymentFlags.maxAmount = v["x402-max-amount"];
    return parsed;
  } catch (e) {
    throw usageError((e as Error).message.split("\n")[0]!.replace(/^TypeError \[\w+\]: /, ""));
  }
}

/** Exactly `names.length` positionals, named for the error message. */
export function positionals(values: string[], names: string[]): string[] {
  if (values.length < names.length) throw usageError(`missing ${names.slice(values.length).join(" ")}`);
  if (values.length > names.length) throw usageError(`unexpected argument: ${values[names.length]}`);
  return values;
}

export const csv = (s: string | undefined) =>
  s === undefined
    ? undefined
    : s
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean);

export function int(name: string, s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  if (!/^\d+$/.test(s)) throw usageError(`--${name} must be a whole number`);
  return Number(s);
}
