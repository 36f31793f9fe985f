import { describe, expect, it } from "vitest";
import { matchPathPattern, pathPatternProblem, patternCouldMatchUnder } from "./path-glob";

describe("matchPathPattern", () => {
  it.each([
    ["api-keys/*", "api-keys/stripe", true],
    ["api-keys/*", "api-keys/a/b", false],
    ["api-keys/*", "db/x", false],
    ["api-keys/*", "api-keys", false],
    ["db/**", "db/x", true],
    ["db/**", "db/x/y/z", true],
    ["db/**", "db", true],
    ["db/**", "dbx/y", false],
    ["**", "anything/at/all", true],
    ["**/prod", "a/b/prod", true],
    ["**/prod", "prod", true],
    ["**/prod", "a/prod/x", false],
    ["a/**/z", "a/z", true],
    ["a/**/z", "a/b/c/z", true],
    ["a/**/z", "a/b/c/y", false],
    ["stripe-*", "stripe-live", true],
    ["stripe-*", "stripe/live", false],
    ["exact/path", "exact/path", true],
    ["exact/path", "exact/path2", false],
    ["*-live/key", "stripe-live/key", true],
    ["*-live/key", "stripe-test/key", false],
    ["a*b/**", "axxb/c/d", true],
    ["a*b/**", "ab", true],
    ["a*b/**", "axxc/d", false],
  ])("%s vs %s → %s", (pattern, path, expected) => {
    // Twice: the second match uses the pattern as compiled by the first.
    expect(matchPathPattern(pattern, path)).toBe(expected);
    expect(matchPathPattern(pattern, path)).toBe(expected);
  });

  it("matches the same past the bound on remembered patterns", () => {
    for (let i = 0; i < 10_050; i++) {
      expect(matchPathPattern(`p${i}-*/x`, `p${i}-a/x`)).toBe(true);
      expect(matchPathPattern(`p${i}-*/x`, `p${i + 1}-a/x`)).toBe(false);
    }
    expect(matchPathPattern("p0-*/x", "p0-b/x")).toBe(true);
  });

  it("stays fast on adversarial patterns", () => {
    const pattern = Array(30).fill("**").join("/") + "/x";
    const path = Array(60).fill("a").join("/");
    const t = performance.now();
    expect(matchPathPattern(pattern, path)).toBe(false);
    expect(performance.now() - t).toBeLessThan(200);
  });
});

describe("pathPatternProblem", () => {
  it("accepts valid patterns and names what is wrong with bad ones", () => {
    expect(pathPatternProblem("api-keys/*")).toBeNull();
    expect(pathPatternProblem("**")).toBeNull();
    expect(pathPatternProblem("")).toMatch(/empty/);
    expect(pathPatternProblem("a//b")).toMatch(/empty segments/);
    expect(pathPatternProblem("a/../b")).toMatch(/only letters/);
    expect(pathPatternProblem("a/b**")).toMatch(/whole segment/);
    expect(pathPatternProblem("x".repeat(513))).toMatch(/512/);
  });
});

describe("patternCouldMatchUnder", () => {
  it.each([
    ["api-keys/*", "api-keys/", true],
    ["api-keys/*", "db/", false],
    ["**", "anything/", true],
    ["db/**", "db", true],
    ["db/x", "d", true],
    ["db/x", "e", false],
    ["stripe-*/x", "stripe-live/", true],
    ["stripe-*/x", "paypal/", false],
    ["stripe-*", "str", true],
  ])("%s under %s → %s", (pattern, prefix, expected) => {
    expect(patternCouldMatchUnder(pattern, prefix)).toBe(expected);
  });
});
