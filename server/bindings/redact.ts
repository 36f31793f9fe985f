import { MIN_REDACTED_LENGTH } from "../../lib/mcp/redaction";

/**
 * Redaction of an execute answer: every spelling in which a known secret value may come back from
 * the upstream (echoed, reflected in an error, or in a header) is replaced by `[REDACTED]` before the
 * agent sees it. The spellings of each value:
 *   - the value itself, and JSON-escaped;
 *   - URL-encoded: encodeURIComponent, with lower-case escapes, form encoding (`+` for spaces),
 *     encodeURI, and every byte escaped (upper and lower case);
 *   - hex of its UTF-8 bytes, lower and upper case;
 *   - base64 and base64url, with and without padding, and — for a value embedded in a longer base64
 *     blob (a JSON document echoed in base64) — the characters that depend only on the value at each of
 *     the three byte alignments;
 *   - for basic auth, the base64 of the `user:password` pair.
 * For an env_bundle, each variable's value too. A value shorter than MIN_REDACTED_LENGTH (4, the MCP
 * session rule) is not redacted: replacing every "1" or "on" would mangle the answer while hiding
 * nothing worth hiding. Longest first, so a value inside another is not left half.
 *
 * Matching is on bytes (`bytes`): a body is redacted before it is decoded as text or encoded as
 * base64, and a header value (which Node reads as latin1) is matched on its raw bytes, so a non-ASCII
 * value is caught there too. A body cut at the size cap loses a trailing partial spelling as well.
 */
export const REDACTED = "[REDACTED]";
/** Alignment cores of a value inside a longer base64 blob shorter than this are not used (too likely to match by chance). */
const MIN_CORE_LENGTH = 8;
/** At the end of a truncated body, a tail this long or longer that begins a spelling is redacted. */
const MIN_TAIL_LENGTH = 3;

const everyByteEscaped = (bytes: Buffer) => [...bytes].map((b) => `%${b.toString(16).padStart(2, "0").toUpperCase()}`).join("");

function base64Cores(bytes: Buffer): string[] {
  const out: string[] = [];
  for (let k = 1; k <= 2; k++) {
    const enc = Buffer.concat([Buffer.alloc(k), bytes]).toString("base64");
    const core = enc.slice(Math.ceil((8 * k) / 6), Math.floor((8 * (k + bytes.length)) / 6));
    if (core.length >= MIN_CORE_LENGTH) out.push(core, core.replace(/\+/g, "-").replace(/\//g, "_"));
  }
  // Alignment 0 inside a longer blob: the last character depends on what follows.
  const whole = bytes.toString("base64").replace(/=+$/, "");
  const head = whole.slice(0, Math.floor((8 * bytes.length) / 6));
  if (head.length >= MIN_CORE_LENGTH) out.push(head, head.replace(/\+/g, "-").replace(/\//g, "_"));
  return out;
}

export function spellings(value: string): string[] {
  const bytes = Buffer.from(value, "utf8");
  const uri = encodeURIComponent(value);
  const all = everyByteEscaped(bytes);
  const b64 = bytes.toString("base64");
  const hex = bytes.toString("hex");
  return [
    value,
    JSON.stringify(value).slice(1, -1),
    uri,
    uri.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
    new URLSearchParams({ v: value }).toString().slice(2),
    encodeURI(value),
    all,
    all.toLowerCase(),
    hex,
    hex.toUpperCase(),
    b64,
    b64.replace(/=+$/, ""),
    bytes.toString("base64url"),
    ...base64Cores(bytes),
  ];
}

export type Redactor = {
  /** A string the agent will see (status text). */
  text: (s: string) => string;
  /** A header name or value as Node hands it over (latin1: one character per byte). */
  header: (s: string) => string;
  /** Raw bytes (a body), before it is decoded or encoded; `truncated`: the body was cut at the cap. */
  bytes: (b: Buffer, truncated?: boolean) => Buffer;
};

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const latin1Of = (s: string) => Buffer.from(s, "utf8").toString("latin1");

/** `values`: the secrets to hide; `basicPairs`: `user:password` strings whose base64 an Authorization header would carry. */
export function redactorFor(values: string[], basicPairs: string[] = []): Redactor {
  const all = new Set<string>();
  for (const v of values) if (v.length >= MIN_REDACTED_LENGTH) for (const s of spellings(v)) if (s.length > 0) all.add(s);
  for (const pair of basicPairs) {
    if (pair.length < MIN_REDACTED_LENGTH) continue;
    const b64 = Buffer.from(pair, "utf8").toString("base64");
    all.add(b64);
    all.add(b64.replace(/=+$/, ""));
  }
  if (all.size === 0) return { text: (t) => t, header: (t) => t, bytes: (b) => b };
  // Needles as latin1 strings of their UTF-8 bytes: a regex over latin1 text matches bytes one for one.
  const needles = [...all].map(latin1Of).sort((a, b) => b.length - a.length);
  const re = new RegExp(needles.map(escapeRe).join("|"), "g");
  const onLatin1 = (s: string, truncated = false): string => {
    let out = s.replace(re, REDACTED);
    if (truncated) out = redactTail(out, needles);
    return out;
  };
  return {
    bytes: (b, truncated = false) => Buffer.from(onLatin1(b.toString("latin1"), truncated), "latin1"),
    header: (s) => onLatin1(Buffer.from(s, "latin1").toString("latin1") === s ? s : latin1Of(s)),
    text: (s) => Buffer.from(onLatin1(latin1Of(s)), "latin1").toString("utf8"),
  };
}

/** The body ends inside a spelling (cut at the cap): the partial spelling goes too. */
function redactTail(s: string, needles: string[]): string {
  let cut = -1;
  for (const n of needles) {
    for (let len = Math.min(n.length - 1, s.length); len >= MIN_TAIL_LENGTH; len--) {
      if (s.endsWith(n.slice(0, len))) {
        cut = Math.max(cut, len);
        break;
      }
    }
  }
  return cut > 0 ? `${s.slice(0, s.length - cut)}${REDACTED}` : s;
}
