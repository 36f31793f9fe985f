import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { VaultKeyRecord } from "../../server/crypto/types";
import { CURRENT_VERSION_REFRESH_MS, VaultKeyService } from "../../server/crypto/vault-keys";
import { loadConfig } from "../../server/config";
import { openKeystore } from "../../server/keystore";
import { ensureSoftHsmToken } from "../../server/keystore/softhsm-setup";
import { type Keystore, KeystoreIntegrityError } from "../../server/keystore/types";

let dataDir: string;
let hsm: Keystore;

/** The real SoftHSM keystore, with its calls counted. */
function counting(inner: Keystore) {
  const calls = { wrap: 0, unwrap: 0, version: 0 };
  const counted: Partial<Keystore> = {
    wrap: (...a) => (calls.wrap++, inner.wrap(...a)),
    unwrap: (...a) => (calls.unwrap++, inner.unwrap(...a)),
    currentMasterKeyVersion: () => (calls.version++, inner.currentMasterKeyVersion()),
  };
  const ks = new Proxy(inner, { get: (t, p) => (p in counted ? counted[p as keyof Keystore] : Reflect.get(t, p, t)) });
  return { ks, calls };
}

async function newVault(svc: VaultKeyService): Promise<{ rec: VaultKeyRecord; key: Buffer }> {
  const id = randomUUID();
  const { key, wrappedKey, masterKeyVersion } = await svc.newVaultKey(id);
  return { rec: { id, wrappedKey, masterKeyVersion }, key };
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), "talon-vk-"));
  ensureSoftHsmToken(dataDir, "talon");
  hsm = await openKeystore(loadConfig({ NODE_ENV: "test", TALON_DATA_DIR: dataDir }));
});

afterAll(async () => {
  await hsm?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

afterEach(() => {
  vi.useRealTimers();
});

describe("vault key service", () => {
  it("creates a random 32-byte key wrapped by the current master key, bound to the vault id", async () => {
    const { ks, calls } = counting(hsm);
    const creator = new VaultKeyService(ks, { ttlSeconds: 300, maxEntries: 10 });
    const { rec, key } = await newVault(creator);
    expect(key).toHaveLength(32);
    expect(rec.masterKeyVersion).toBe(1);
    expect(calls.wrap).toBe(1);
    const reader = new VaultKeyService(ks, { ttlSeconds: 300, maxEntries: 10 });
    expect((await reader.vaultKey(rec)).equals(key)).toBe(true);
    expect(calls.unwrap).toBe(1);
    await expect(reader.vaultKey({ ...rec, id: randomUUID() })).rejects.toBeInstanceOf(KeystoreIntegrityError);
  });

  it("answers a cached vault key without any HSM call, and hands out copies", async () => {
    const { rec, key } = await newVault(new VaultKeyService(hsm, { ttlSeconds: 300, maxEntries: 10 }));
    const { ks, calls } = counting(hsm);
    const svc = new VaultKeyService(ks, { ttlSeconds: 300, maxEntries: 10 });
    const first = await svc.vaultKey(rec);
    first.fill(0);
    for (let i = 0; i < 5; i++) expect((await svc.vaultKey(rec)).equals(key)).toBe(true);
    expect(calls).toEqual({ wrap: 0, unwrap: 1, version: 0 });
    svc.forget(rec.id);
    await svc.vaultKey(rec);
    expect(calls.unwrap).toBe(2);
  });

  it("calls the HSM every time when the TTL is 0", async () => {
    const { rec } = await newVault(new VaultKeyService(hsm, { ttlSeconds: 0, maxEntries: 10 }));
    const { ks, calls } = counting(hsm);
    const svc = new VaultKeyService(ks, { ttlSeconds: 0, maxEntries: 10 });
    for (let i = 0; i < 3; i++) await svc.vaultKey(rec);
    expect(calls.unwrap).toBe(3);
  });

  it("forgets a key once its TTL has passed", async () => {
    const { rec } = await newVault(new VaultKeyService(hsm, { ttlSeconds: 0, maxEntries: 10 }));
    const { ks, calls } = counting(hsm);
    const svc = new VaultKeyService(ks, { ttlSeconds: 60, maxEntries: 10 });
    vi.useFakeTimers({ toFake: ["Date"] });
    await svc.vaultKey(rec);
    vi.advanceTimersByTime(59_000);
    await svc.vaultKey(rec);
    expect(calls.unwrap).toBe(1);
    vi.advanceTimersByTime(1_001);
    await svc.vaultKey(rec);
    expect(calls.unwrap).toBe(2);
  });

  it("answers a cached key at once (no promise) as a copy, and nothing once it is forgotten, expired or never unwrapped", async () => {
    const { rec, key } = await newVault(new VaultKeyService(hsm, { ttlSeconds: 0, maxEntries: 10 }));
    const { ks, calls } = counting(hsm);
    const svc = new VaultKeyService(ks, { ttlSeconds: 60, maxEntries: 10 });
    vi.useFakeTimers({ toFake: ["Date"] });
    expect(svc.cachedVaultKey(rec)).toBeUndefined();
    expect(calls.unwrap).toBe(0);
    await svc.vaultKey(rec);
    const hit = svc.cachedVaultKey(rec);
    expect(hit).toBeInstanceOf(Buffer);
    expect(hit!.equals(key)).toBe(true);
    hit!.fill(0);
    expect(svc.cachedVaultKey(rec)!.equals(key)).toBe(true);
    vi.advanceTimersByTime(60_001);
    expect(svc.cachedVaultKey(rec)).toBeUndefined();
    expect((await svc.vaultKey(rec)).equals(key)).toBe(true);
    expect(calls.unwrap).toBe(2);
    svc.forget(rec.id);
    expect(svc.cachedVaultKey(rec)).toBeUndefined();
    expect(svc.cachedVaultKey({ id: randomUUID() })).toBeUndefined();
  });

  it("shares one unwrap among concurrent misses for the same vault", async () => {
    const maker = new VaultKeyService(hsm, { ttlSeconds: 0, maxEntries: 10 });
    const a = await newVault(maker);
    const b = await newVault(maker);
    const { ks, calls } = counting(hsm);
    const svc = new VaultKeyService(ks, { ttlSeconds: 300, maxEntries: 10 });
    const keys = await Promise.all([...Array.from({ length: 20 }, () => svc.vaultKey(a.rec)), svc.vaultKey(b.rec), svc.vaultKey(b.rec)]);
    expect(calls.unwrap).toBe(2);
    expect(keys.slice(0, 20).every((k) => k.equals(a.key))).toBe(true);
    expect(keys[21]!.equals(b.key)).toBe(true);
    // Without a cache, concurrent misses still share the call; the next miss calls again.
    const uncached = counting(hsm);
    const svc0 = new VaultKeyService(uncached.ks, { ttlSeconds: 0, maxEntries: 10 });
    await Promise.all(Array.from({ length: 10 }, () => svc0.vaultKey(a.rec)));
    expect(uncached.calls.unwrap).toBe(1);
  });

  it("keeps at most maxEntries keys, evicting the least recently used", async () => {
    const maker = new VaultKeyService(hsm, { ttlSeconds: 0, maxEntries: 10 });
    const [a, b, c] = [await newVault(maker), await newVault(maker), await newVault(maker)];
    const { ks, calls } = counting(hsm);
    const svc = new VaultKeyService(ks, { ttlSeconds: 300, maxEntries: 2 });
    await svc.vaultKey(a.rec);
    await svc.vaultKey(b.rec);
    await svc.vaultKey(a.rec); // a is now the most recent
    await svc.vaultKey(c.rec); // evicts b
    expect(calls.unwrap).toBe(3);
    await svc.vaultKey(a.rec);
    expect(calls.unwrap).toBe(3);
    await svc.vaultKey(b.rec);
    expect(calls.unwrap).toBe(4);
  });

  it("follows a master key rotated elsewhere: at once when a row shows it, else within the refresh interval", async () => {
    const { ks, calls } = counting(hsm);
    const svc = new VaultKeyService(ks, { ttlSeconds: 300, maxEntries: 10 });
    const lagging = new VaultKeyService(ks, { ttlSeconds: 300, maxEntries: 10 });
    vi.useFakeTimers({ toFake: ["Date"] });
    expect((await newVault(svc)).rec.masterKeyVersion).toBe(1);
    expect((await newVault(lagging)).rec.masterKeyVersion).toBe(1);
    await hsm.ensureMasterKey(2);
    const rotated = await newVault(new VaultKeyService(hsm, { ttlSeconds: 300, maxEntries: 10 }));
    expect(rotated.rec.masterKeyVersion).toBe(2);
    // svc reads a row wrapped under v2: its next vault uses v2 without waiting.
    expect((await svc.vaultKey(rotated.rec)).equals(rotated.key)).toBe(true);
    expect((await newVault(svc)).rec.masterKeyVersion).toBe(2);
    // lagging saw no such row: it keeps v1 (still valid) until its refresh.
    expect((await newVault(lagging)).rec.masterKeyVersion).toBe(1);
    const versionCalls = calls.version;
    vi.advanceTimersByTime(CURRENT_VERSION_REFRESH_MS);
    expect((await newVault(lagging)).rec.masterKeyVersion).toBe(2);
    expect(calls.version).toBe(versionCalls + 1);
  });

  // Last: it destroys keys in this file's token.
  it("recovers at once when its master-key version was destroyed before its refresh", async () => {
    const svc = new VaultKeyService(hsm, { ttlSeconds: 300, maxEntries: 10 });
    vi.useFakeTimers({ toFake: ["Date"] });
    expect((await newVault(svc)).rec.masterKeyVersion).toBe(2);
    await hsm.ensureMasterKey(3);
    await hsm.destroyMasterKey(2);
    const { rec, key } = await newVault(svc);
    expect(rec.masterKeyVersion).toBe(3);
    expect((await new VaultKeyService(hsm, { ttlSeconds: 0, maxEntries: 1 }).vaultKey(rec)).equals(key)).toBe(true);
  });
});
