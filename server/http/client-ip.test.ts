import { describe, expect, it } from "vitest";
import { normaliseIp, resolveClientIp } from "./client-ip";

describe("resolveClientIp", () => {
  it("uses the socket address, IPv4-mapped IPv6 normalised, and ignores X-Forwarded-For with 0 trusted hops", () => {
    expect(resolveClientIp("::ffff:127.0.0.1", undefined, 0)).toBe("127.0.0.1");
    expect(resolveClientIp("::ffff:127.0.0.1", "10.1.2.3", 0)).toBe("127.0.0.1");
    expect(resolveClientIp("2001:DB8::1", "10.1.2.3", 0)).toBe("2001:db8::1");
    expect(resolveClientIp(undefined, "10.1.2.3", 0)).toBe("");
  });

  it("takes the Nth address from the right with N trusted hops; entries the client wrote further left are never used", () => {
    expect(resolveClientIp("127.0.0.1", "10.1.2.3", 1)).toBe("10.1.2.3");
    expect(resolveClientIp("127.0.0.1", "6.6.6.6, 10.1.2.3", 1)).toBe("10.1.2.3");
    expect(resolveClientIp("127.0.0.1", "6.6.6.6, 10.1.2.3, 172.16.0.9", 2)).toBe("10.1.2.3");
    expect(resolveClientIp("127.0.0.1", " 2001:db8::7 ", 1)).toBe("2001:db8::7");
    expect(resolveClientIp("127.0.0.1", "::ffff:10.9.8.7", 1)).toBe("10.9.8.7");
  });

  it("falls back to the socket address when the header is missing, too short or malformed", () => {
    expect(resolveClientIp("127.0.0.1", undefined, 1)).toBe("127.0.0.1");
    expect(resolveClientIp("127.0.0.1", "10.1.2.3", 2)).toBe("127.0.0.1");
    expect(resolveClientIp("127.0.0.1", "not-an-ip", 1)).toBe("127.0.0.1");
    expect(resolveClientIp("127.0.0.1", "10.1.2.3:443", 1)).toBe("127.0.0.1");
    expect(resolveClientIp("127.0.0.1", "10.1.2.3,", 1)).toBe("127.0.0.1");
    expect(resolveClientIp("127.0.0.1", "fe80::1%eth0", 1)).toBe("127.0.0.1");
    expect(resolveClientIp("127.0.0.1", `${"1.1.1.1, ".repeat(300)}10.1.2.3`, 1)).toBe("127.0.0.1");
  });

  it("normalises only the IPv4-mapped form", () => {
    expect(normaliseIp("::FFFF:1.2.3.4")).toBe("1.2.3.4");
    expect(normaliseIp("::ffff:abcd")).toBe("::ffff:abcd");
    expect(normaliseIp("10.0.0.1")).toBe("10.0.0.1");
  });
});
