import { parseIp } from "../../lib/cidr";

const V4_MAPPED = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i;
/** An X-Forwarded-For header longer than this is not something our proxies wrote. */
const MAX_FORWARDED_LENGTH = 2048;

/** `::ffff:a.b.c.d` (how a dual-stack socket reports IPv4 clients) → `a.b.c.d`; IPv6 lower-cased. */
export function normaliseIp(ip: string): string {
  const m = V4_MAPPED.exec(ip);
  return m ? m[1]! : ip.toLowerCase();
}

/**
 * The client's address. With `trustedHops` = 0 (the default) it is the socket's peer and
 * X-Forwarded-For is ignored, since anyone can send that header. With N > 0 Talon trusts that exactly N
 * proxies it controls sit in front of it, each appending the address it saw: the Nth entry from the
 * right is then the address the outermost trusted proxy saw. Entries further left were written by the
 * client and are never used. A header that is missing, too short, or holds anything but plain IP
 * addresses falls back to the socket address (set hops only when Talon is reachable through those
 * proxies alone).
 */
export function resolveClientIp(socketAddress: string | undefined, forwardedFor: string | undefined, trustedHops: number): string {
  const socketIp = socketAddress ? normaliseIp(socketAddress) : "";
  if (trustedHops === 0 || !forwardedFor || forwardedFor.length > MAX_FORWARDED_LENGTH) return socketIp;
  const entries = forwardedFor.split(",");
  if (entries.length < trustedHops) return socketIp;
  const candidate = entries[entries.length - trustedHops]!.trim();
  if (parseIp(candidate) === null || candidate.includes("%")) return socketIp;
  return normaliseIp(candidate);
}

/**
 * The header through which `server.ts` hands the resolved client address to Next.js (the dashboard).
 * It always overwrites whatever the client sent; the dashboard trusts it only when `server.ts` said
 * so (TALON_CLIENT_IP_HEADER=1), never under `next dev`/`next start` alone.
 */
export const CLIENT_IP_HEADER = "x-talon-client-ip";
