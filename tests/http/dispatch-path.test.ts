import { describe, expect, it } from "vitest";
import { hasDotSegment, plainPathOf, rawPathOf } from "../../server/http/node-listener";

/**
 * The dispatcher's fast path (server/http/node-listener.ts): a target it takes without parsing a URL
 * must dispatch exactly as the parsed URL would — its path is the URL's pathname and its raw path, and
 * it has no dot segment (the refusal never applies to it). Everything else goes through `new URL`.
 */
const BASE = "http://localhost";
const urlPath = (target: string) => new URL(target, BASE).pathname;

function expectSameAsUrl(target: string): void {
  const plain = plainPathOf(target);
  if (plain === null) return;
  expect(plain, target).toBe(urlPath(target));
  expect(plain, target).toBe(rawPathOf(target));
  expect(hasDotSegment(rawPathOf(target)), target).toBe(false);
}

describe("dispatcher: a request target's path without parsing a URL", () => {
  it("takes the plain targets API clients send", () => {
    for (const t of [
      "/v1/health",
      "/v1/vaults/0190e3c4-5b1a-7cde-8f00-123456789abc/secrets/api-keys/stripe",
      "/v1/vaults/x/secrets?prefix=api-keys/&rotation_due=true",
      "/v1/secrets/a_b~c:d@e!$&'()*+,;=",
      "/mcp",
      "/",
      "/_next/static/chunks/app.js?v=1",
      "/v1/x%20y",
    ]) {
      expect(plainPathOf(t), t).not.toBeNull();
      expectSameAsUrl(t);
    }
    expect(plainPathOf("/v1/vaults/x/secrets?prefix=a/../b")).toBe("/v1/vaults/x/secrets");
  });

  it("leaves to the URL parser every target whose path it would change, or that is not origin-form", () => {
    for (const t of [
      "//evil.example/v1/health", // a host to the parser
      "/v1/a/../b",
      "/v1/a/./b",
      "/x/../v1/health",
      "/v1/a/%2e%2E/b",
      "/v1/a/.%2e/b",
      "/v1\\health",
      "/v1/a b",
      "/v1/ä",
      "/v1/a\"b",
      "/v1/a<b>",
      "/v1/a{b}",
      "/v1/a`b",
      "/v1/a|b",
      "/v1/a^b",
      "/v1/a[b]",
      "/v1/health#frag",
      "/v1/a\tb",
      "*",
      "http://localhost/v1/health",
      "v1/health",
      "",
    ]) {
      expect(plainPathOf(t), JSON.stringify(t)).toBeNull();
    }
  });

  it("agrees with the URL parser on random targets", () => {
    // A fixed seed: the same targets every run.
    let seed = 0x5eed;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const alphabet = [..."abcXYZ019-._~!$&'()*+,;=:@/%?#\\ \"<>{}`|^[]\t", "%2e", "%2E", "%2f", "%5c", "..", "./", "ä", "//"];
    let plain = 0;
    for (let i = 0; i < 20_000; i++) {
      let t = "/";
      for (let n = rand(24); n > 0; n--) t += alphabet[rand(alphabet.length)];
      if (plainPathOf(t) !== null) plain++;
      expectSameAsUrl(t);
    }
    // The corpus reaches the fast path often enough for the comparison to mean something.
    expect(plain).toBeGreaterThan(1_000);
  });
});
