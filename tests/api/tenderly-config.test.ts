import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../server/config";

/**
 * TALON_TENDERLY_*: off unless configured; the key, account and project together or a start-up error
 * naming what is missing; a public https API unless a local stand-in is allowed explicitly; no
 * message ever repeats the access key.
 */
const KEY = "tdly-config-canary-0123456789abcdef";
const FULL = { TALON_TENDERLY_ACCESS_KEY: KEY, TALON_TENDERLY_ACCOUNT: "acme", TALON_TENDERLY_PROJECT: "prod" };

const fails = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    const message = (e as Error).message;
    expect(message).not.toContain(KEY);
    return message;
  }
  throw new Error("expected a ConfigError");
};

describe("Tenderly configuration", () => {
  it("is off by default", () => {
    expect(loadConfig({}).tenderly).toBeUndefined();
  });

  it("with the key, account and project: Tenderly's public API, private addresses refused", () => {
    expect(loadConfig(FULL).tenderly).toEqual({ accessKey: KEY, account: "acme", project: "prod", apiUrl: "https://api.tenderly.co", allowPrivate: false });
    expect(loadConfig({ ...FULL, TALON_TENDERLY_API_URL: "https://tenderly.example.com/" }).tenderly?.apiUrl).toBe("https://tenderly.example.com");
  });

  it("a partial set stops start-up naming every missing variable", () => {
    expect(fails({ TALON_TENDERLY_ACCESS_KEY: KEY })).toBe("Invalid configuration: TALON_TENDERLY_ACCOUNT, TALON_TENDERLY_PROJECT are required when any TALON_TENDERLY_* variable is set");
    expect(fails({ TALON_TENDERLY_ACCESS_KEY: KEY, TALON_TENDERLY_ACCOUNT: "acme" })).toBe("Invalid configuration: TALON_TENDERLY_PROJECT is required when any TALON_TENDERLY_* variable is set");
    expect(fails({ TALON_TENDERLY_API_URL: "https://api.tenderly.co" })).toContain("TALON_TENDERLY_ACCESS_KEY, TALON_TENDERLY_ACCOUNT, TALON_TENDERLY_PROJECT are required");
  });

  it("bounds and shapes each value without echoing it", () => {
    expect(fails({ ...FULL, TALON_TENDERLY_ACCESS_KEY: `${KEY} x` })).toBe("Invalid configuration: TALON_TENDERLY_ACCESS_KEY must be 1–512 printable characters without spaces");
    expect(fails({ ...FULL, TALON_TENDERLY_ACCESS_KEY: `${KEY}${"k".repeat(512)}` })).toContain("TALON_TENDERLY_ACCESS_KEY");
    expect(fails({ ...FULL, TALON_TENDERLY_ACCOUNT: "acme/../x" })).toContain("TALON_TENDERLY_ACCOUNT must be a slug");
    expect(fails({ ...FULL, TALON_TENDERLY_PROJECT: "p".repeat(101) })).toContain("TALON_TENDERLY_PROJECT must be a slug");
    expect(fails({ ...FULL, TALON_TENDERLY_ALLOW_PRIVATE: "yes" })).toContain("TALON_TENDERLY_ALLOW_PRIVATE must be 0 or 1");
    expect(fails({ ...FULL, TALON_TENDERLY_API_URL: `https://u:${KEY}@api.tenderly.co` })).toContain("must not carry credentials");
  });

  it("a loopback, private or plain-http API only with TALON_TENDERLY_ALLOW_PRIVATE=1", () => {
    expect(fails({ ...FULL, TALON_TENDERLY_API_URL: "http://127.0.0.1:9999" })).toBe(
      "Invalid configuration: TALON_TENDERLY_API_URL must not point at a loopback address (TALON_TENDERLY_ALLOW_PRIVATE=1 allows a local stand-in)",
    );
    expect(fails({ ...FULL, TALON_TENDERLY_API_URL: "https://10.1.2.3" })).toContain("private address");
    expect(fails({ ...FULL, TALON_TENDERLY_API_URL: "http://api.tenderly.co" })).toContain("must use https");
    expect(loadConfig({ ...FULL, TALON_TENDERLY_API_URL: "http://127.0.0.1:9999", TALON_TENDERLY_ALLOW_PRIVATE: "1" }).tenderly).toMatchObject({ apiUrl: "http://127.0.0.1:9999", allowPrivate: true });
  });
});
