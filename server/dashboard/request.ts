import { CLIENT_IP_HEADER } from "../http/client-ip";

/**
 * The client's address for a dashboard request: the header `server.ts` sets (overwriting the
 * client's own), trusted only when `server.ts` is the entry. Under `next dev` the address is unknown
 * (""): per-account limits still apply, per-IP ones and IP allow lists cannot.
 */
export function clientIp(h: Headers): string {
  if (process.env.TALON_CLIENT_IP_HEADER !== "1") return "";
  return (h.get(CLIENT_IP_HEADER) ?? "").slice(0, 64);
}
