/**
 * One-line JSON logs on stderr. Callers pass structured fields, never a raw request body, header,
 * token, PIN or secret value; `redact` drops known-sensitive keys defensively anyway.
 */
type Level = "debug" | "info" | "warn" | "error";
const ORDER: Record<Level | "silent", number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };
const SENSITIVE = /pass(word|phrase)?|secret|token|api_?key|authorization|pin|value|ciphertext|key$/i;

let threshold = ORDER[(process.env.TALON_LOG_LEVEL as Level) ?? "info"] ?? ORDER.info;

export function setLogLevel(level: Level | "silent") {
  threshold = ORDER[level];
}

function redact(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) out[k] = SENSITIVE.test(k) ? "[REDACTED]" : v;
  return out;
}

function write(level: Level, msg: string, fields: Record<string, unknown>) {
  if (ORDER[level] < threshold) return;
  process.stderr.write(JSON.stringify({ t: new Date().toISOString(), level, msg, ...redact(fields) }) + "\n");
}

export const log = {
  debug: (msg: string, fields: Record<string, unknown> = {}) => write("debug", msg, fields),
  info: (msg: string, fields: Record<string, unknown> = {}) => write("info", msg, fields),
  warn: (msg: string, fields: Record<string, unknown> = {}) => write("warn", msg, fields),
  error: (msg: string, fields: Record<string, unknown> = {}) => write("error", msg, fields),
};
