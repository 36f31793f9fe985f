import { lookup as dnsLookup } from "node:dns/promises";
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { type Cidr, ipInCidr, parseCidr, parseIp } from "../../lib/cidr";

/**
 * Outbound requests to addresses a tenant chose (webhooks, credential-injecting bindings). The check
 * happens at send time, on the addresses DNS gives *now*, and the connection is pinned to the address
 * that was checked (a custom `lookup`), so a name that resolves to a public address for the check and
 * to 127.0.0.1 for the connection (DNS rebinding) cannot reach the inside. A name with any refused
 * answer is refused as a whole. Redirects are never followed here (callers decide), response bodies
 * are read up to a cap and the whole exchange has one deadline.
 */

/** Ranges no tenant-chosen request may reach. IPv4 ranges also match their IPv4-mapped IPv6 spelling (lib/cidr). */
const REFUSED: ReadonlyArray<readonly [string, string]> = [
  ["0.0.0.0/8", "this network"],
  ["10.0.0.0/8", "private"],
  ["100.64.0.0/10", "carrier-grade NAT"],
  ["127.0.0.0/8", "loopback"],
  ["169.254.0.0/16", "link-local (cloud metadata)"],
  ["172.16.0.0/12", "private"],
  ["192.0.0.0/24", "IETF protocol assignments"],
  ["192.0.2.0/24", "documentation"],
  ["192.88.99.0/24", "6to4 relay"],
  ["192.168.0.0/16", "private"],
  ["198.18.0.0/15", "benchmarking"],
  ["198.51.100.0/24", "documentation"],
  ["203.0.113.0/24", "documentation"],
  ["224.0.0.0/4", "multicast"],
  ["240.0.0.0/4", "reserved"],
  ["::/128", "unspecified"],
  ["::1/128", "loopback"],
  ["100::/64", "discard"],
  ["2001::/23", "IETF protocol assignments (Teredo)"],
  ["2001:db8::/32", "documentation"],
  ["fc00::/7", "unique local"],
  ["fe80::/10", "link-local"],
  ["fec0::/10", "site-local"],
  ["ff00::/8", "multicast"],
];
const REFUSED_CIDRS: ReadonlyArray<readonly [Cidr, string]> = REFUSED.map(([c, why]) => [parseCidr(c)!, why] as const);
const NAT64 = parseCidr("64:ff9b::/96")!;
const SIX_TO_FOUR = parseCidr("2002::/16")!;

const v4Text = (n: bigint) => [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 0xffn)).join(".");

/** Why `ip` must not be reached (e.g. "loopback"), or null for a public address. Unparsable counts as refused. */
export function refusedAddressReason(ip: string): string | null {
  const n = parseIp(ip);
  if (n === null) return "not an IP address";
  for (const [cidr, why] of REFUSED_CIDRS) if (ipInCidr(n, cidr)) return why;
  // IPv4 embedded in IPv6 (NAT64, 6to4) reaches the IPv4 address: judge that one.
  if (ipInCidr(n, NAT64)) return refusedAddressReason(v4Text(n & 0xffffffffn));
  if (ipInCidr(n, SIX_TO_FOUR)) return refusedAddressReason(v4Text((n >> 80n) & 0xffffffffn));
  return null;
}

/**
 * Create-time check of a host a tenant names (the send-time check still runs on every request): a
 * literal internal address, or `localhost` / a dotless name, is refused. WHATWG URL parsing has
 * already turned decimal, octal and hex IPv4 spellings (`2130706433`, `0x7f.1`) into dotted quads
 * when `host` comes from `new URL(...).hostname`. Returns the problem, or null.
 */
export function publicHostProblem(hostname: string): string | null {
  const host = hostname.replace(/^\[|\]$/g, "");
  if (isIP(host)) {
    const why = refusedAddressReason(host);
    return why ? `must not point at a ${why} address` : null;
  }
  if (host === "localhost" || host.endsWith(".localhost") || !host.includes(".")) return "must name a public host";
  return null;
}

export type ResolvedAddress = { address: string; family: 4 | 6 };
/** Every address a name resolves to right now (injectable so tests can play a rebinding DNS server). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

export class OutboundRefused extends Error {}

/**
 * Resolves and checks the host; returns the one address the connection will use. `allowHint` is
 * appended to a refusal: how an operator or human may allow internal addresses for this caller.
 */
export async function resolvePinned(hostname: string, allowPrivate: boolean, resolver: Resolver, allowHint = ""): Promise<ResolvedAddress> {
  const host = hostname.replace(/^\[|\]$/g, "");
  const family = isIP(host);
  const answers = family ? [{ address: host, family: family as 4 | 6 }] : await resolver(host).catch(() => []);
  if (answers.length === 0) throw new OutboundRefused("the host name did not resolve");
  if (!allowPrivate) {
    for (const a of answers) {
      const why = refusedAddressReason(a.address);
      if (why) throw new OutboundRefused(`the host resolves to a ${why} address${allowHint ? ` (${allowHint})` : ""}`);
    }
  }
  return answers[0]!;
}

export type OutboundRequest = {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body?: Buffer | string;
  allowPrivate: boolean;
  allowHint?: string;
  resolver?: Resolver;
  timeoutMs: number;
  maxResponseBytes: number;
};

export type OutboundResponse = {
  status: number;
  statusText: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The answer had more than maxResponseBytes; `body` holds the first maxResponseBytes. */
  truncated: boolean;
  address: string;
};

/**
 * One request to a tenant-chosen URL under the rules above (http or https only, no credentials in
 * the URL). Resolves with the status, headers and at most `maxResponseBytes` of the body; rejects with
 * OutboundRefused (address refused) or a network error (a timeout says "within N ms").
 */
export async function sendOutbound(req: OutboundRequest): Promise<OutboundResponse> {
  const u = req.url;
  if (u.protocol !== "https:" && u.protocol !== "http:") throw new OutboundRefused("only http(s) URLs are allowed");
  if (u.username || u.password) throw new OutboundRefused("URLs must not carry credentials");
  const pinned = await resolvePinned(u.hostname, req.allowPrivate, req.resolver ?? systemResolver, req.allowHint);
  // The connection asks this lookup, never DNS: it gets the address that was checked.
  const lookup: LookupFunction = (_host, opts, cb) => {
    if ((opts as { all?: boolean }).all) (cb as unknown as (e: null, a: ResolvedAddress[]) => void)(null, [pinned]);
    else cb(null, pinned.address, pinned.family);
  };
  const { timeoutMs, maxResponseBytes: cap } = req;
  const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body, "utf8");
  const send = u.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise<OutboundResponse>((resolve, reject) => {
    const r = send(
      u,
      {
        method: req.method,
        headers: body === undefined ? req.headers : { ...req.headers, "Content-Length": String(body.length) },
        lookup,
        agent: false,
        timeout: timeoutMs,
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let truncated = false;
        const finish = () => {
          clearTimeout(deadline);
          resolve({
            status: res.statusCode ?? 0,
            statusText: res.statusMessage ?? "",
            headers: res.headers,
            body: Buffer.concat(chunks),
            truncated,
            address: pinned.address,
          });
        };
        res.on("data", (b: Buffer) => {
          if (size >= cap) return;
          const take = b.subarray(0, cap - size);
          chunks.push(take);
          size += take.length;
          if (size >= cap) {
            // Enough read: the rest is not ours to buffer.
            truncated = take.length < b.length || !res.complete;
            res.removeAllListeners("data");
            res.destroy();
            finish();
          }
        });
        res.on("end", finish);
        res.on("error", (e) => {
          clearTimeout(deadline);
          reject(e);
        });
      },
    );
    // One deadline for connect, send and the whole answer (the socket timeout alone is per idle period).
    const deadline = setTimeout(() => r.destroy(new Error(`no complete answer within ${timeoutMs} ms`)), timeoutMs);
    r.on("timeout", () => r.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    r.on("error", (e) => {
      clearTimeout(deadline);
      reject(e);
    });
    r.end(body);
  });
}
