import { describe, expect, it } from "vitest";
import { CREDENTIAL_MAX, parseAuthorization } from "../../server/http/authorization";

/**
 * `Authorization` parsing (server/http/authorization.ts): the plain match that takes what clients send must
 * agree with the grammar's regex, the one requireAuth used alone before, on every header.
 */
const GRAMMAR = /^(Bearer|DPoP)\s+(\S{1,4096})\s*$/i;

function expectSameAsGrammar(header: string): void {
  const m = GRAMMAR.exec(header);
  const expected = m ? { scheme: m[1]!.toLowerCase() === "dpop" ? "dpop" : "bearer", credential: m[2]! } : null;
  expect(parseAuthorization(header), JSON.stringify(header.slice(0, 80))).toEqual(expected);
}

describe("the Authorization header", () => {
  const jwt = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhZ2VudCJ9.c2lnbmF0dXJl-_";
  it("parses what clients send, and refuses what is malformed, as the grammar does", () => {
    for (const h of [
      `Bearer ${jwt}`,
      "Bearer ocv_abc123",
      `bearer ${jwt}`,
      `BEARER ${jwt}`,
      `DPoP ${jwt}`,
      `dpop ${jwt}`,
      `Bearer  ${jwt}`,
      `Bearer\t${jwt}`,
      `Bearer ${jwt} `,
      `Bearer ${jwt}\t`,
      `Bearer ${jwt} extra`,
      `Bearer ${jwt}\u00a0`,
      `Bearer \u00a0${jwt}`,
      `Bearer ${jwt}\u00e4`,
      `Bearer ${jwt}\n`,
      "Bearer ",
      "Bearer",
      "Bearer  ",
      "Basic dXNlcjpwYXNz",
      `Token ${jwt}`,
      ` Bearer ${jwt}`,
      `Bearer${jwt}`,
      `Bearer ${"a".repeat(CREDENTIAL_MAX)}`,
      `Bearer ${"a".repeat(CREDENTIAL_MAX + 1)}`,
      `DPoP ${"a".repeat(CREDENTIAL_MAX + 1)}`,
      `Bearer ${"a".repeat(CREDENTIAL_MAX)} `,
      "Bearer \x7f",
      "Bearer ~!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}",
      "",
    ]) {
      expectSameAsGrammar(h);
    }
    expect(parseAuthorization(`Bearer ${jwt}`)).toEqual({ scheme: "bearer", credential: jwt });
    expect(parseAuthorization(`DPoP ${jwt}`)).toEqual({ scheme: "dpop", credential: jwt });
    expect(parseAuthorization(`Bearer ${"a".repeat(CREDENTIAL_MAX + 1)}`)).toBeNull();
    expect(parseAuthorization(`Bearer ${jwt} extra`)).toBeNull();
  });

  it("agrees with the grammar on random headers", () => {
    // A fixed seed: the same headers every run.
    let seed = 0xa17;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const starts = ["Bearer ", "bearer ", "DPoP ", "Bearer", "Bearer\t", "Basic ", "", " Bearer "];
    const alphabet = [..."abcXYZ019-._~+/=!\"#$%&'()*,:;<>?@[\\]^`{|}", " ", "\t", "\n", "\r", "\u00a0", "\u00e4", "\x7f", "\x00", "\u2028"];
    let plain = 0;
    for (let i = 0; i < 20_000; i++) {
      let h = starts[rand(starts.length)]!;
      for (let n = rand(40); n > 0; n--) h += alphabet[rand(alphabet.length)];
      if (GRAMMAR.test(h)) plain++;
      expectSameAsGrammar(h);
    }
    // The corpus has valid headers often enough for the comparison to mean something.
    expect(plain).toBeGreaterThan(1_000);
  });
});
