import { randomBytes } from "node:crypto";
import { type Keystore, KeystoreKeyMissingError } from "../keystore/types";
import type { Metrics } from "../metrics";
import { encodeAad } from "./envelope";
import type { VaultKeyRecord } from "./types";

/** How long a process keeps using the master-key version it last saw; rotation waits this long before destroying. */
export const CURRENT_VERSION_REFRESH_MS = 30_000;
const MAX_SWEEP_MS = 60_000;

/** A vault's data key is wrapped with its vault id as associated data: a wrapped key moved to another vault fails. */
export const vaultKeyAad = (vaultId: string) => encodeAad("talon/vault-key/v1", [vaultId]);

const view = (b: Uint8Array) => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/**
 * Vault data keys: created and wrapped by the keystore's current master key, unwrapped on demand and
 * kept in a bounded LRU cache for at most `ttlSeconds` after unwrapping, so a hot read costs no HSM
 * call. Both methods call the HSM: call them before opening a database transaction, never inside it
 * (create the key, then insert the vault row; read the vault row, get its key, then transact).
 * Callers receive their own copy of the key.
 */
export class VaultKeyService {
  private cache = new Map<string, { key: Buffer; expiresAt: number }>();
  private inflight = new Map<string, Promise<Buffer>>();
  private current?: { version: number; checkedAt: number };
  private currentPending?: Promise<number>;
  private sweepTimer?: ReturnType<typeof setTimeout>;

  constructor(
    private readonly keystore: Keystore,
    private readonly opts: { ttlSeconds: number; maxEntries: number },
    private readonly metrics?: Metrics,
  ) {
    metrics?.watchVaultKeyCache(() => this.cache.size);
  }

  /** The version new vault keys are wrapped with: the keystore's highest, re-read every 30 s so another process's rotation is picked up. */
  async currentMasterKeyVersion(): Promise<number> {
    if (this.current && Date.now() - this.current.checkedAt < CURRENT_VERSION_REFRESH_MS) return this.current.version;
    this.currentPending ??= this.keystore
      .currentMasterKeyVersion()
      .then((version) => {
        this.current = { version, checkedAt: Date.now() };
        return version;
      })
      .finally(() => {
        this.currentPending = undefined;
      });
    return this.currentPending;
  }

  async newVaultKey(vaultId: string): Promise<{ key: Buffer; wrappedKey: Buffer; masterKeyVersion: number }> {
    const key = randomBytes(32);
    let masterKeyVersion = await this.currentMasterKeyVersion();
    let wrappedKey: Buffer;
    try {
      wrappedKey = await this.keystore.wrap(key, vaultKeyAad(vaultId), masterKeyVersion);
    } catch (e) {
      // Our version was rotated away and destroyed before our refresh came round: look again now.
      if (!(e instanceof KeystoreKeyMissingError)) throw e;
      this.current = undefined;
      masterKeyVersion = await this.currentMasterKeyVersion();
      wrappedKey = await this.keystore.wrap(key, vaultKeyAad(vaultId), masterKeyVersion);
    }
    this.remember(vaultId, Buffer.from(key));
    return { key, wrappedKey, masterKeyVersion };
  }

  /**
   * The vault's data key if it is cached (a copy, at once: no promise on the hot path), else undefined:
   * call vaultKey then.
   */
  cachedVaultKey(v: Pick<VaultKeyRecord, "id">): Buffer | undefined {
    const hit = this.cache.get(v.id);
    if (!hit) return undefined;
    this.cache.delete(v.id);
    if (hit.expiresAt <= Date.now()) {
      hit.key.fill(0);
      return undefined;
    }
    this.cache.set(v.id, hit);
    this.metrics?.vaultKeyLookup(true);
    return Buffer.from(hit.key);
  }

  /** The vault's data key; concurrent misses for the same vault share one unwrap. */
  async vaultKey(v: VaultKeyRecord): Promise<Buffer> {
    const hit = this.cachedVaultKey(v);
    if (hit) return hit;
    this.metrics?.vaultKeyLookup(false);
    // A row wrapped under a newer version than ours means a rotation happened elsewhere: follow it now.
    if (this.current && v.masterKeyVersion > this.current.version) this.current.version = v.masterKeyVersion;
    const flight = `${v.id}\n${v.masterKeyVersion}`;
    let pending = this.inflight.get(flight);
    if (!pending) {
      const p: Promise<Buffer> = this.keystore
        .unwrap(view(v.wrappedKey), vaultKeyAad(v.id), v.masterKeyVersion)
        .then((key) => {
          // forget() during the unwrap wins: the result is handed out but not cached.
          if (this.inflight.get(flight) === p) this.remember(v.id, key);
          return key;
        })
        .finally(() => {
          if (this.inflight.get(flight) === p) this.inflight.delete(flight);
        });
      this.inflight.set(flight, p);
      pending = p;
    }
    return Buffer.from(await pending);
  }

  /** Drops a vault's key from the cache (vault deleted, or its data key replaced). */
  forget(vaultId: string): void {
    this.cache.get(vaultId)?.key.fill(0);
    this.cache.delete(vaultId);
    for (const k of this.inflight.keys()) if (k.startsWith(`${vaultId}\n`)) this.inflight.delete(k);
  }

  clear(): void {
    for (const { key } of this.cache.values()) key.fill(0);
    this.cache.clear();
    this.inflight.clear();
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  private remember(vaultId: string, key: Buffer) {
    if (this.opts.ttlSeconds <= 0) return;
    this.cache.delete(vaultId);
    this.cache.set(vaultId, { key, expiresAt: Date.now() + this.opts.ttlSeconds * 1000 });
    while (this.cache.size > this.opts.maxEntries) {
      const [oldest, entry] = this.cache.entries().next().value!;
      entry.key.fill(0);
      this.cache.delete(oldest);
    }
    this.scheduleSweep();
  }

  /** Expired keys leave memory even when nobody asks for them again. */
  private scheduleSweep() {
    if (this.sweepTimer || this.cache.size === 0) return;
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = undefined;
      const now = Date.now();
      for (const [id, entry] of this.cache) {
        if (entry.expiresAt <= now) {
          entry.key.fill(0);
          this.cache.delete(id);
        }
      }
      this.scheduleSweep();
    }, Math.min(this.opts.ttlSeconds * 1000, MAX_SWEEP_MS));
    this.sweepTimer.unref?.();
  }
}
