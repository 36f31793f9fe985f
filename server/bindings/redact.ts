/**
 * Redaction of an execute answer: every spelling in which a known secret value may come back from
 * the upstream (echoed, reflected in an error, or in a header) is replaced by `[REDACTED]` before the
 * agent sees it. The spellings: the value itself, its URL encodings (%20 and + for spaces), its
 * base64 (standard and url-safe, with and without padding), and the basic-auth pair's base64. For
 * an env_bundle, each variable's value too. Longest first, so a value inside another is not left half.
 */
export const REDACTED = "[REDACTED]";

function spellings(value: string): string[] {
  const b64 = Buffer.from(value, "utf8").toString("base64");
  const b64url = Buffer.from(value, "utf8").toString("base64url");
  return [
    value,
    encodeURIComponent(value),
    new URLSearchParams({ v: value }).toString().slice(2),
    b64,
    b64.replace(/=+$/, ""),
    b64url,
    JSON.stringify(value).slice(1, -1),
  ];
}

export type Redactor = (text: string) => string;

/** `values`: the secrets to hide; `basicPairs`: `user:password` strings whose base64 an Authorization header would carry. */
export function redactorFor(values: string[], basicPairs: string[] = []): Redactor {
  const all = new Set<string>();
  for (const v of values) if (v.length > 0) for (const s of spellings(v)) if (s.length > 0) all.add(s);
  for (const pair of basicPairs) {
    const b64 = Buffer.from(pair, "utf8").toString("base64");
    all.add(b64);
    all.add(b64.replace(/=+$/, ""));
  }
  const needles = [...all].sort((a, b) => b.length - a.length);
  if (needles.length === 0) return (t) => t;
  const re = new RegExp(needles.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"), "g");
  return (text) => text.replace(re, REDACTED);
}
