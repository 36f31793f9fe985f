import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../server/config";

const fails = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error("expected a ConfigError");
};

describe("configuration", () => {
  it("has working defaults, with numbers as numbers", () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.userTokenTtlSeconds).toBe(900);
    expect(c.dataDir).toBe(path.resolve("./data"));
    expect(c.databaseUrl).toBe(`file:${path.resolve("./data/talon.db")}`);
    expect(c.dialect).toBe("sqlite");
    expect(c.keystore.provider).toBe("pkcs11");
    expect(c.publicUrl).toBe("http://localhost:3000");
  });

  it("picks PostgreSQL from DATABASE_URL and the data dir from TALON_DATA_DIR", () => {
    const c = loadConfig({ DATABASE_URL: "postgresql://u@db/talon", TALON_DATA_DIR: "/srv/talon", PORT: "3001" });
    expect(c.dialect).toBe("postgres");
    expect(c.dataDir).toBe("/srv/talon");
    expect(c.publicUrl).toBe("http://localhost:3001");
  });

  it("stops with one line naming the variable", () => {
    expect(fails({ PORT: "abc" })).toBe("Invalid configuration: PORT must be a whole number");
    expect(fails({ PORT: "70000" })).toMatch(/^Invalid configuration: PORT /);
    expect(fails({ DATABASE_URL: "mysql://x" })).toMatch(/^Invalid configuration: DATABASE_URL /);
    expect(fails({ TALON_KEYSTORE: "aws" })).toMatch(/^Invalid configuration: TALON_KEYSTORE /);
    for (const m of [fails({ PORT: "abc" }), fails({ TALON_KEYSTORE: "x" })]) expect(m.split("\n")).toHaveLength(1);
  });

  it("requires the TLS certificate and key together, and a client CA only with them", () => {
    expect(fails({ TALON_TLS_CERT_FILE: "/c.pem" })).toMatch(/TALON_TLS_KEY_FILE must be set together with TALON_TLS_CERT_FILE/);
    expect(fails({ TALON_TLS_KEY_FILE: "/k.pem" })).toMatch(/TALON_TLS_CERT_FILE must be set together with TALON_TLS_KEY_FILE/);
    expect(fails({ TALON_TLS_CLIENT_CA_FILE: "/ca.pem" })).toMatch(/TALON_TLS_CLIENT_CA_FILE needs/);
    expect(loadConfig({ TALON_TLS_CERT_FILE: "/c.pem", TALON_TLS_KEY_FILE: "/k.pem" }).tls).toMatchObject({ certFile: "/c.pem", keyFile: "/k.pem" });
  });

  it("never echoes a PIN it rejects", () => {
    const message = fails({ TALON_PKCS11_PIN: "12" });
    expect(message).toMatch(/TALON_PKCS11_PIN/);
    expect(message).not.toContain("12 ");
  });
});
