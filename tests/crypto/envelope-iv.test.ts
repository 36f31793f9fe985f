import { randomBytes, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { openSecretVersion, sealSecretVersion } from "../../server/crypto/envelope";

/** The IV pool (server/crypto/envelope.ts): IVs cut from 4 KiB blocks of randomness are never reused. */
describe("secret version IVs", () => {
  it("10,000 seals (about 30 pool refills) use 10,000 distinct IVs, and each opens", () => {
    const key = randomBytes(32);
    const aad = { vaultId: randomUUID(), secretId: randomUUID(), version: 1 };
    const value = Buffer.from("same value every time");
    const ivs = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const blob = sealSecretVersion(key, aad, value);
      ivs.add(blob.subarray(1, 13).toString("hex"));
      if (i % 997 === 0) expect(openSecretVersion(key, aad, blob).equals(value)).toBe(true);
    }
    expect(ivs.size).toBe(10_000);
    // Random, not a counter or a zero-filled pool: the IVs' bytes spread over the whole byte range.
    const bytes = Buffer.from([...ivs].join(""), "hex");
    const seen = new Set(bytes);
    expect(seen.size).toBe(256);
    expect(ivs.has("000000000000000000000000")).toBe(false);
  });

  it("a sealed blob holds its own copy of the IV: later seals do not change it", () => {
    const key = randomBytes(32);
    const aad = { vaultId: randomUUID(), secretId: randomUUID(), version: 2 };
    const blob = sealSecretVersion(key, aad, Buffer.from("v"));
    const copy = Buffer.from(blob);
    for (let i = 0; i < 1000; i++) sealSecretVersion(key, aad, Buffer.from("w"));
    expect(blob.equals(copy)).toBe(true);
    expect(openSecretVersion(key, aad, blob).toString()).toBe("v");
  });
});
