import { describe, expect, it } from "vitest";
import { cidrProblem, ipInCidr, parseIp } from "./cidr";

describe("cidr", () => {
  it.each([
    ["10.1.2.3", "10.0.0.0/8", true],
    ["11.1.2.3", "10.0.0.0/8", false],
    ["::ffff:10.1.2.3", "10.0.0.0/8", true],
    ["127.0.0.1", "127.0.0.1", true],
    ["127.0.0.2", "127.0.0.1/32", false],
    ["192.168.1.77", "192.168.1.64/27", true],
    ["192.168.1.96", "192.168.1.64/27", false],
    ["2001:db8::1", "2001:db8::/32", true],
    ["2001:db9::1", "2001:db8::/32", false],
    ["::1", "::1/128", true],
    ["::1", "127.0.0.1/32", false],
    ["1.2.3.4", "0.0.0.0/0", true],
    ["2001:db8::1", "0.0.0.0/0", false],
    ["2001:db8::1", "::/0", true],
    ["fe80::1%eth0", "fe80::/10", true],
  ])("%s in %s → %s", (ip, cidr, expected) => {
    expect(ipInCidr(ip, cidr)).toBe(expected);
  });

  it("rejects malformed input", () => {
    for (const bad of ["", "10.0.0.0/33", "10.0.0/8", "1.2.3.256", "01.2.3.4", "::1/129", "1::2::3", "x", "10.0.0.0/8/1", "10.0.0.0/-1"]) {
      expect(cidrProblem(bad), bad).not.toBeNull();
    }
    expect(parseIp("not-an-ip")).toBeNull();
    expect(ipInCidr("garbage", "10.0.0.0/8")).toBe(false);
  });
});
