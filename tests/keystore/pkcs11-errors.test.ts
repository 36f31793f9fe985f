import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/config";
import { openKeystore } from "../../server/keystore";
import { ensureSoftHsmToken, softHsmPaths } from "../../server/keystore/softhsm-setup";
import { KeystoreFatalError } from "../../server/keystore/types";

let dataDir: string;

beforeAll(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), "talon-ks-err-"));
  ensureSoftHsmToken(dataDir, "talon");
});

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function openError(env: Record<string, string>): Promise<KeystoreFatalError> {
  const err = await openKeystore(loadConfig({ NODE_ENV: "test", TALON_DATA_DIR: dataDir, ...env })).then(
    async (ks) => {
      await ks.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KeystoreFatalError);
  const message = (err as Error).message;
  expect(message.split("\n")).toHaveLength(1);
  return err as KeystoreFatalError;
}

describe("pkcs11 keystore start-up failures", () => {
  it("stores the generated PIN only in a 0600 file", () => {
    const { pinFile } = softHsmPaths(dataDir);
    expect(statSync(pinFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(pinFile, "utf8").trim()).toMatch(/^[\w-]{32}$/);
  });

  it("stops at once on a wrong PIN, without echoing it", async () => {
    const pin = "wrong-pin-7f3a9c";
    const started = performance.now();
    const err = await openError({ TALON_PKCS11_PIN: pin });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(err.message).toContain("CKR_PIN_INCORRECT");
    expect(err.message).toContain("TALON_PKCS11_PIN");
    expect(err.message).not.toContain(pin);
    expect(JSON.stringify(err)).not.toContain(pin);
    expect(String(err.stack)).not.toContain(pin);
  });

  it("names the variable to set when the PIN file, module or token is missing", async () => {
    expect((await openError({ TALON_PKCS11_PIN_FILE: path.join(dataDir, "nope") })).message).toMatch(/TALON_PKCS11_PIN_FILE/);
    expect((await openError({ TALON_PKCS11_MODULE: "/nonexistent/libhsm.so" })).message).toMatch(/TALON_PKCS11_MODULE/);
    expect((await openError({ TALON_PKCS11_TOKEN_LABEL: "other" })).message).toMatch(/token "other" not found.*TALON_PKCS11_TOKEN_LABEL/);
  });

  it("opens with the right PIN (the failures above are the PIN's, not the setup's)", async () => {
    const pin = readFileSync(softHsmPaths(dataDir).pinFile, "utf8").trim();
    const ks = await openKeystore(loadConfig({ NODE_ENV: "test", TALON_DATA_DIR: dataDir, TALON_PKCS11_PIN: pin }));
    try {
      expect((await ks.health()).status).toBe("ok");
    } finally {
      await ks.close();
    }
  });

  it("follows the data dir to its own token, and refuses a second token while one is open", async () => {
    const other = mkdtempSync(path.join(tmpdir(), "talon-ks-other-"));
    try {
      const a = await openKeystore(loadConfig({ NODE_ENV: "test", TALON_DATA_DIR: dataDir }));
      const kidA = (await a.signingJwk()).kid;
      await a.close();
      ensureSoftHsmToken(other, "talon");
      const b = await openKeystore(loadConfig({ NODE_ENV: "test", TALON_DATA_DIR: other }));
      try {
        expect((await b.signingJwk()).kid).not.toBe(kidA);
        const err = await openKeystore(loadConfig({ NODE_ENV: "test", TALON_DATA_DIR: dataDir })).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(KeystoreFatalError);
        expect((err as Error).message).toMatch(/one process serves one token/);
      } finally {
        await b.close();
      }
      const again = await openKeystore(loadConfig({ NODE_ENV: "test", TALON_DATA_DIR: dataDir }));
      expect((await again.signingJwk()).kid).toBe(kidA);
      await again.close();
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
