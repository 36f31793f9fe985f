import type { FieldError } from "../contract/field-errors";

/**
 * Problem details as a person reads them in the dashboard. The API's `detail` is written for programs
 * and agents (field paths like `body.value`, `POST /v1/...` hints, zod's wording) and stays as it is
 * there; every problem a dashboard action returns, and every message shown beside an input, goes
 * through here instead: field names in words, no API paths, HTTP status words or "Conflict:" leads,
 * zod's phrasing turned into a sentence, and a fallback that gives the request id to quote.
 */
export type HumanProblemInput = { status: number; title: string; detail: string; fields?: FieldError[] };

/** Field names whose words alone would read wrong. */
const FIELD_WORDS: Record<string, string> = {
  secret_path_pattern: "path pattern",
  principal_id: "user or agent",
  principal_type: "kind of principal",
  cidr: "IP range (CIDR)",
  ip_allowlist: "IP allowlist",
  dpop_jwk: "DPoP key",
  url: "URL",
  totp: "code",
  mfa: "MFA",
  new_password: "new password",
  vault_id: "vault",
  agent_id: "agent",
  org_id: "organisation",
  max_access_count: "maximum reads",
  expires_at: "expiry",
  amount_cents: "amount",
};

const PLUMBING = new Set(["body", "query", "input", "form", "params", "param", "header", "headers", "json"]);

/** `body.metadata.owner` → "metadata owner", `ip_allowlist.2` → "IP allowlist (item 3)". */
export function humanField(field: string): string {
  const parts = field.split(".").filter((p) => p !== "");
  while (parts.length > 1 && PLUMBING.has(parts[0]!.toLowerCase())) parts.shift();
  const words: string[] = [];
  let item: number | null = null;
  for (const p of parts) {
    if (/^\d+$/.test(p)) item = Number(p) + 1;
    else words.push(FIELD_WORDS[p] ?? p.replace(/([a-z])([A-Z])/g, "$1 $2").replace(/[_-]+/g, " ").toLowerCase());
  }
  const name = words.join(" ").replace(/\bid\b/g, "ID").replace(/\burl\b/g, "URL").replace(/\bip\b/g, "IP").trim() || "this field";
  return item === null ? name : `${name} (item ${item})`;
}

const capital = (s: string) => (s ? s[0]!.toUpperCase() + s.slice(1) : s);
const sentence = (s: string) => {
  const t = capital(s.trim());
  return !t ? t : /[.!?…]$/.test(t) ? t : `${t}.`;
};

/** zod's messages (and our own terse ones) as the end of "<field> …". */
export function humanFieldMessage(message: string): string {
  const m = message.trim();
  let r: RegExpExecArray | null;
  if (/^Invalid input: expected \w+, received (undefined|null)$/i.test(m) || /^Required$/i.test(m)) return "is required";
  if ((r = /^Too small: expected (string|array|number|set) to have >=?(\d+) (characters?|items?)$/i.exec(m))) {
    const n = Number(r[2]);
    if (n === 1) return r[1] === "string" ? "is required" : "needs at least one entry";
    return r[1] === "string" ? `must be at least ${n} characters` : `needs at least ${n} entries`;
  }
  if ((r = /^Too big: expected (string|array|set) to have <=?(\d+) (characters?|items?)$/i.exec(m))) return r[1] === "string" ? `must be at most ${r[2]} characters` : `can have at most ${r[2]} entries`;
  if ((r = /^Too small: expected number to be >(=?)(-?[\d.]+)$/i.exec(m))) return r[1] ? `must be at least ${r[2]}` : `must be more than ${r[2]}`;
  if ((r = /^Too big: expected number to be <(=?)(-?[\d.]+)$/i.exec(m))) return r[1] ? `must be at most ${r[2]}` : `must be less than ${r[2]}`;
  if ((r = /^Invalid option: expected one of (.+)$/i.exec(m))) return `must be one of ${r[1]!.replace(/\|/g, ", ")}`;
  if ((r = /^Invalid input: expected (\w+), received (\w+)$/i.exec(m))) return `must be ${/^[aeiou]/.test(r[1]!) ? "an" : "a"} ${r[1]}`;
  if (/^Invalid (UUID|uuid)$/.test(m)) return "must be chosen from the list";
  if (/^Invalid email( address)?$/i.test(m)) return "must be an email address";
  if (/^Invalid (URL|url)$/.test(m)) return "must be a full URL (https://…)";
  if (/^Invalid ISO datetime$/i.test(m) || /^Invalid (date|datetime)$/i.test(m)) return "must be a date and time";
  if (/^Invalid string: must match pattern/i.test(m)) return "has characters that are not allowed";
  if (/^Invalid input$/i.test(m)) return "is not valid";
  if (/^unknown field$/i.test(m)) return "is not a field this form sends";
  // Our own messages: "must …", "not correct", "invalid or already used": after the field name.
  if (/^(must|is|are|has|can|cannot|may|should|needs?|segments?)\b/i.test(m)) return m[0]!.toLowerCase() + m.slice(1);
  // Anything else starting in lower case or with a quote reads on from the field name; a sentence of its own after a colon.
  return /^[a-z'"‘“]/.test(m) ? m : `: ${m}`;
}

/** A field's message as shown beneath its input: a sentence of its own ("Must be at most 256 characters."). */
export function humanFieldText(message: string): string {
  return sentence(humanFieldMessage(message).replace(/^: /, ""));
}

/** "<Field> <message>." for one field error. */
export function fieldSentence(f: FieldError): string {
  const msg = humanFieldMessage(f.message);
  return sentence(msg.startsWith(": ") ? `${capital(humanField(f.field))}${msg}` : `${capital(humanField(f.field))} ${msg}`);
}

const STATUS_WORDS = /^(HTTP \d{3}\s*)?(Bad Request|Unauthori[sz]ed|Payment Required|Forbidden|Not Found|Method Not Allowed|Conflict|Gone|Payload Too Large|Unsupported Media Type|Unprocessable Entity|Too Many Requests|Internal Server Error|Service Unavailable)\s*:\s*/i;
const STATUS_ONLY = new RegExp(`${STATUS_WORDS.source.replace(/\\s\*:\\s\*$/, "")}\\.?$`, "i");
const API_PATH = /(\b(GET|POST|PUT|PATCH|DELETE)\s+)?\/v1\/[^\s,;)]*/;
const HTTP_CODE = /\b(HTTP|status)\s*\d{3}\b/i;

/** What a person should read when nothing in the detail is fit to show, by status. */
function byStatus(status: number, requestId?: string): string {
  switch (status) {
    case 401:
      return "Your session has ended. Sign in again.";
    case 403:
      return "You do not have permission to do this.";
    case 404:
      return "That item no longer exists, or you cannot see it.";
    case 409:
      return "This clashes with something that already exists. Reload the page and try again.";
    case 410:
      return "This is no longer available.";
    case 413:
      return "That is too large.";
    case 429:
      return "Too many attempts. Wait a minute and try again.";
    case 503:
      return "Talon cannot reach its database right now. Try again in a few seconds.";
    default:
      return `Something went wrong — try again${requestId ? `; reference ${requestId}` : ""}.`;
  }
}

/** Is this text still shaped for a program rather than a person? */
function unfit(text: string): boolean {
  return API_PATH.test(text) || HTTP_CODE.test(text) || /\{\s*"/.test(text) || text.length < 3;
}

/** One detail string in words: leads and status words off, API paths and field paths out. */
export function humanDetail(detail: string, status: number, requestId?: string): string {
  if (status >= 500 && status !== 503) return byStatus(status, requestId);
  let d = detail.trim();
  // "Invalid body: a.b: msg; c: msg" (the API's validation hook) → the field sentences.
  const lead = /^Invalid (body|query|input|json|param|params|header|form)\s*:\s*/i.exec(d);
  if (lead) d = d.slice(lead[0].length);
  if (STATUS_ONLY.test(d)) return byStatus(status, requestId);
  d = d.replace(STATUS_WORDS, "").trim();
  // "field.path: message; other: message" → one sentence per field.
  const parts = d.split(/;\s+/);
  if (parts.length > 0 && parts.every((p) => /^[A-Za-z_][\w-]*(\.[\w-]+)*:\s+\S/.test(p))) {
    d = parts
      .map((p) => {
        const i = p.indexOf(":");
        return fieldSentence({ field: p.slice(0, i), message: p.slice(i + 1).trim() });
      })
      .join(" ");
  }
  // An API path in a clause ("…; start with POST /v1/auth/mfa/setup", "(PATCH /v1/agents/{id} …)"): drop the clause.
  d = d.replace(/\s*\([^()]*\/v1\/[^()]*\)/g, "");
  if (API_PATH.test(d)) {
    const kept = d.split(/(?<=[;:.])\s+/).filter((c) => !API_PATH.test(c));
    d = kept.join(" ").replace(/[;:]\s*$/, "");
  }
  d = d.replace(/\s{2,}/g, " ").trim();
  if (unfit(d)) return byStatus(status, requestId);
  return sentence(d);
}

/** The whole problem in words (idempotent: a humanised problem comes back unchanged). */
export function humanProblem<P extends HumanProblemInput>(p: P, requestId?: string): P {
  const fields = p.fields?.map((f) => ({ field: f.field, message: humanFieldText(f.message) }));
  let detail: string;
  if (p.status === 400 && p.fields && p.fields.length > 0 && /^(Invalid \w+\s*:|[\w.]+\s*:)/.test(p.detail.trim())) {
    detail = p.fields.map(fieldSentence).join(" ");
  } else {
    detail = humanDetail(p.detail, p.status, requestId);
  }
  return { ...p, detail: detail.slice(0, 1000), ...(fields ? { fields } : {}) };
}
