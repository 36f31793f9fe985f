/**
 * IPv4 and IPv6 CIDR matching for IP rules and policy conditions. Addresses are compared as 128-bit
 * integers; IPv4 (and IPv4-mapped IPv6, `::ffff:a.b.c.d`, as Node reports IPv4 clients on dual-stack
 * sockets) live in the `::ffff:0:0/96` range so `10.0.0.0/8` matches both spellings.
 */
export type Cidr = { base: bigint; prefix: number };

const V4_MAPPED = 0xffffn << 32n;

function parseV4(s: string): bigint | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  let n = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255 || (p.length > 1 && p.startsWith("0"))) return null;
    n = (n << 8n) | BigInt(Number(p));
  }
  return n;
}

function parseV6(s: string): bigint | null {
  if (s.length > 45 || s.split("::").length > 2) return null;
  let tail4: bigint | null = null;
  let text = s;
  const lastColon = s.lastIndexOf(":");
  if (s.includes(".")) {
    tail4 = parseV4(s.slice(lastColon + 1));
    if (tail4 === null) return null;
    text = s.slice(0, lastColon + 1) + "0:0";
  }
  const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
  const h = head ? head.split(":") : [];
  const t = tail !== undefined ? (tail ? tail.split(":") : []) : [];
  const missing = 8 - h.length - t.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return null;
  const groups = [...h, ...Array(tail === undefined ? 0 : missing).fill("0"), ...t];
  let n = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    n = (n << 16n) | BigInt(parseInt(g, 16));
  }
  if (tail4 !== null) n = (n & ~0xffffffffn) | tail4;
  return n;
}

/** Parses an IPv4 or IPv6 address to its 128-bit form (IPv4 as IPv4-mapped), or null. */
export function parseIp(ip: string): bigint | null {
  const s = ip.trim();
  if (s.length === 0 || s.length > 45) return null;
  if (!s.includes(":")) {
    const v4 = parseV4(s);
    return v4 === null ? null : V4_MAPPED | v4;
  }
  return parseV6(s.replace(/%.*$/, ""));
}

export function parseCidr(cidr: string): Cidr | null {
  const [addr, len, extra] = cidr.trim().split("/");
  if (extra !== undefined || addr === undefined) return null;
  const isV4 = !addr.includes(":");
  const ip = parseIp(addr);
  if (ip === null) return null;
  const max = isV4 ? 32 : 128;
  if (len !== undefined && !/^\d{1,3}$/.test(len)) return null;
  const bits = len === undefined ? max : Number(len);
  if (bits > max) return null;
  const prefix = isV4 ? 96 + bits : bits;
  const mask = prefix === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - prefix)) - 1n);
  return { base: ip & mask, prefix };
}

export function cidrProblem(cidr: string): string | null {
  return cidr.length <= 64 && parseCidr(cidr) ? null : "must be an IPv4 or IPv6 CIDR such as 10.0.0.0/8 or 2001:db8::/32";
}

export function ipInCidr(ip: string | bigint, cidr: Cidr | string): boolean {
  const n = typeof ip === "string" ? parseIp(ip) : ip;
  const c = typeof cidr === "string" ? parseCidr(cidr) : cidr;
  if (n === null || c === null) return false;
  const mask = c.prefix === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - c.prefix)) - 1n);
  return (n & mask) === c.base;
}
