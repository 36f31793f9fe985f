/** Output, errors and exit codes shared by every command. */
import type { SdkResponse } from "../../lib/sdk";

export const EXIT_OK = 0;
export const EXIT_API = 1;
export const EXIT_USAGE = 2;

/** Thrown by commands; `main` prints `talon: <message>` on one line and exits with `code`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code: number = EXIT_API,
  ) {
    super(message);
  }
}

export const usageError = (message: string) => new CliError(`${message} (see --help)`, EXIT_USAGE);

/** The data of a successful call, or a CliError carrying the problem's `detail`. */
export function unwrap<T>(r: SdkResponse<T>): T {
  if (r.error) throw new CliError(r.error.detail.replace(/\s+/g, " ").trim() || `${r.error.message} (HTTP ${r.meta.status})`);
  return r.data as T;
}

export const out = (s: string) => process.stdout.write(s.endsWith("\n") ? s : `${s}\n`);
export const warn = (s: string) => process.stderr.write(`talon: ${s}\n`);
export const printJson = (v: unknown) => out(JSON.stringify(v, null, 2));

/** A plain aligned table for humans; `--json` is the format for machines. */
export function printTable(headers: string[], rows: Array<Array<string | number | null | undefined>>) {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? "" : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  for (const r of cells) out(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  "));
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Reads a line from the terminal without echoing it (passwords, secret values). */
export async function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) throw usageError(`cannot ask for "${question.replace(/:\s*$/, "")}" without a terminal`);
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding("utf8");
  return new Promise((resolve, reject) => {
    let value = "";
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off("data", onData);
      process.stderr.write("\n");
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n") return done();
        if (ch === "\u0003") return done(new CliError("cancelled", 130));
        if (ch === "\u007f" || ch === "\b") value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on("data", onData);
  });
}
