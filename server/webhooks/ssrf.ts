import { OutboundRefused, publicHostProblem, type Resolver, sendOutbound } from "../net/outbound";

/**
 * Webhooks' side of the outbound boundary (server/net/outbound.ts holds the address rules, the pinned
 * DNS answer, the cap and the deadline): a webhook is one POST, and a redirect is a failed delivery,
 * never followed.
 *
 * `allowPrivate` (TALON_WEBHOOK_ALLOW_PRIVATE=1) is for operators whose receivers live on their own
 * network, and for tests on loopback.
 */
export { OutboundRefused, refusedAddressReason, resolvePinned, systemResolver, type ResolvedAddress, type Resolver } from "../net/outbound";

export const WEBHOOK_URL_MAX = 2048;

/**
 * Create-time check of a webhook URL (the send-time check still runs on every request): https only
 * (http too with allowPrivate), no credentials, no fragment, and no literal address or localhost
 * name that would be refused at send time anyway. Returns the problem, or null.
 */
export function webhookUrlProblem(raw: string, allowPrivate: boolean): string | null {
  if (raw.length > WEBHOOK_URL_MAX) return `must be at most ${WEBHOOK_URL_MAX} characters`;
  if (!URL.canParse(raw)) return "must be an absolute URL";
  const u = new URL(raw);
  if (u.protocol !== "https:" && !(allowPrivate && u.protocol === "http:")) return allowPrivate ? "must be an http(s) URL" : "must be an https URL";
  if (u.username || u.password) return "must not carry credentials";
  if (u.hash) return "must not have a fragment";
  if (!u.hostname) return "must name a host";
  if (allowPrivate) return null;
  return publicHostProblem(u.hostname);
}

export type SafeRequest = {
  url: string;
  method: "POST";
  headers: Record<string, string>;
  body: string;
  allowPrivate: boolean;
  resolver?: Resolver;
  timeoutMs?: number;
  maxResponseBytes?: number;
};

export type SafeResponse = { status: number; body: string; address: string };

/**
 * One POST to a tenant-chosen URL under the rules above. Resolves with the status and at most
 * `maxResponseBytes` of the body; rejects with OutboundRefused (address refused) or a network error.
 */
export async function safePost(req: SafeRequest): Promise<SafeResponse> {
  const u = new URL(req.url);
  if (u.protocol !== "https:" && !(req.allowPrivate && u.protocol === "http:")) throw new OutboundRefused("only https URLs are allowed");
  const res = await sendOutbound({
    url: u,
    method: req.method,
    headers: req.headers,
    body: req.body,
    allowPrivate: req.allowPrivate,
    allowHint: "set TALON_WEBHOOK_ALLOW_PRIVATE=1 to allow",
    resolver: req.resolver,
    timeoutMs: req.timeoutMs ?? 10_000,
    maxResponseBytes: req.maxResponseBytes ?? 64 * 1024,
  });
  return { status: res.status, body: res.body.toString("utf8"), address: res.address };
}
