import { randomBytes } from "node:crypto";
import {
  acquireLibrary,
  CKK_EC_EDWARDS,
  CKM_EC_EDWARDS_KEY_PAIR_GEN,
  CKM_EDDSA,
  CKS_RO_USER_FUNCTIONS,
  CKS_RW_USER_FUNCTIONS,
  findObjects,
  findTokenSlot,
  gcm,
  HANDLE_ERRORS,
  type Handle,
  type Pkcs11,
  type Pkcs11Config,
  pkcs11Code,
  pkcs11js,
  readPin,
  SESSION_ERRORS,
  SessionPool,
} from "./pkcs11-library";
import { BLOB_FORMAT, checkBlob, ed25519Jwk, type SigningJwk, selfTest } from "./common";
import { Pkcs11Secp256k1Keys } from "./secp256k1";
import { type Keystore, KeystoreFatalError, type KeystoreHealth, KeystoreIntegrityError, KeystoreKeyMissingError } from "./types";

const MASTER_LABEL = /^talon-master-v(\d+)$/;
export const masterLabel = (version: number) => `talon-master-v${version}`;
const SIGNING_LABEL = "talon-jwt-signing";
/** DER of OID 1.3.101.112 (id-Ed25519). */
const ED25519_OID = Buffer.from("06032b6570", "hex");
const HEALTH_CACHE_MS = 2000;

/** Keys generated and used inside a PKCS#11 token; only wrapped data and public keys leave it. */
export class Pkcs11Keystore implements Keystore {
  readonly provider = "pkcs11" as const;
  /** Handles of each master-key version, ordered by CKA_ID (two processes may race to create one). */
  private masterKeys = new Map<number, Handle[]>();
  private generating = new Map<number, Promise<void>>();
  private signing?: Promise<{ priv: Handle; jwk: SigningJwk }>;
  private health_?: { at: number; value: Promise<KeystoreHealth> };
  private lastVersion = 0;
  readonly secp256k1: Pkcs11Secp256k1Keys;

  private constructor(
    private readonly p11: Pkcs11,
    private readonly pool: SessionPool,
    private readonly release: () => void,
  ) {
    this.secp256k1 = new Pkcs11Secp256k1Keys(p11, pool);
  }

  static async open(cfg: Pkcs11Config): Promise<Pkcs11Keystore> {
    const lib = acquireLibrary(cfg.module);
    let pool: SessionPool | undefined;
    try {
      const slot = findTokenSlot(lib.p11, cfg.tokenLabel);
      if (!slot) {
        throw new KeystoreFatalError(
          `PKCS#11 token "${cfg.tokenLabel}" not found in ${cfg.module}: initialise it or set TALON_PKCS11_TOKEN_LABEL`,
        );
      }
      pool = SessionPool.open(lib.p11, slot, readPin(cfg), cfg.tokenLabel, cfg.sessions);
      const ks = new Pkcs11Keystore(lib.p11, pool, lib.release);
      if ((await ks.currentMasterKeyVersion()) === 0) await ks.ensureMasterKey(1);
      return ks;
    } catch (e) {
      pool?.close();
      lib.release();
      throw e;
    }
  }

  private attr(s: Handle, h: Handle, type: number): Buffer {
    return this.p11.C_GetAttributeValue(s, h, [{ type }])[0]?.value ?? Buffer.alloc(0);
  }

  async currentMasterKeyVersion(): Promise<number> {
    this.lastVersion = Math.max(0, ...(await this.masterKeyVersions()));
    return this.lastVersion;
  }

  async masterKeyVersions(): Promise<number[]> {
    const versions = await this.pool.use((s) => {
      const found = findObjects(this.p11, s, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
        { type: pkcs11js.CKA_TOKEN, value: true },
      ]);
      const out: number[] = [];
      for (const h of found) {
        const m = MASTER_LABEL.exec(this.attr(s, h, pkcs11js.CKA_LABEL).toString("utf8"));
        if (m) out.push(Number(m[1]));
      }
      return out;
    });
    return [...new Set(versions)].sort((x, y) => x - y);
  }

  private findByLabel(s: Handle, cls: number, label: string): { h: Handle; id: Buffer }[] {
    const handles = findObjects(this.p11, s, [
      { type: pkcs11js.CKA_CLASS, value: cls },
      { type: pkcs11js.CKA_LABEL, value: label },
      { type: pkcs11js.CKA_TOKEN, value: true },
    ]);
    return handles.map((h) => ({ h, id: this.attr(s, h, pkcs11js.CKA_ID) })).sort((a, b) => Buffer.compare(a.id, b.id));
  }

  /** Searches the token again when asked to: a key may have been created or destroyed by another process. */
  private async masterKeyHandles(version: number, refresh = false): Promise<Handle[]> {
    const cached = this.masterKeys.get(version);
    if (cached && !refresh) return cached;
    const found = await this.pool.use((s) => this.findByLabel(s, pkcs11js.CKO_SECRET_KEY, masterLabel(version)));
    const handles = found.map((f) => f.h);
    if (handles.length) this.masterKeys.set(version, handles);
    else this.masterKeys.delete(version);
    return handles;
  }

  async ensureMasterKey(version: number): Promise<void> {
    if (!Number.isInteger(version) || version < 1) throw new Error("Master key version must be a positive integer");
    let pending = this.generating.get(version);
    if (!pending) {
      pending = (async () => {
        if ((await this.masterKeyHandles(version, true)).length) return;
        await this.pool.use((s) =>
          this.p11.C_GenerateKeyAsync(s, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
            { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
            { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
            { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
            { type: pkcs11js.CKA_TOKEN, value: true },
            { type: pkcs11js.CKA_PRIVATE, value: true },
            { type: pkcs11js.CKA_SENSITIVE, value: true },
            { type: pkcs11js.CKA_EXTRACTABLE, value: false },
            { type: pkcs11js.CKA_ENCRYPT, value: true },
            { type: pkcs11js.CKA_DECRYPT, value: true },
            { type: pkcs11js.CKA_WRAP, value: false },
            { type: pkcs11js.CKA_UNWRAP, value: false },
            { type: pkcs11js.CKA_LABEL, value: masterLabel(version) },
            { type: pkcs11js.CKA_ID, value: randomBytes(16) },
          ]),
        );
        await this.masterKeyHandles(version, true);
        this.lastVersion = Math.max(this.lastVersion, version);
      })().finally(() => this.generating.delete(version));
      this.generating.set(version, pending);
    }
    return pending;
  }

  async destroyMasterKey(version: number): Promise<void> {
    if (version >= (await this.currentMasterKeyVersion())) throw new Error("Refusing to destroy the current master key");
    await this.pool.use((s) => {
      for (const { h } of this.findByLabel(s, pkcs11js.CKO_SECRET_KEY, masterLabel(version))) this.p11.C_DestroyObject(s, h);
    });
    this.masterKeys.delete(version);
  }

  /** Runs op with each key of `version` until one works; handles gone stale are looked up again once. */
  private async withMasterKey<T>(version: number, op: (s: Handle, key: Handle) => Promise<T>, tryAll: boolean): Promise<T> {
    let lastError: unknown;
    for (const refresh of [false, true]) {
      const handles = await this.masterKeyHandles(version, refresh);
      if (!handles.length) throw new KeystoreKeyMissingError(version);
      let stale = false;
      for (const key of tryAll ? handles : handles.slice(0, 1)) {
        try {
          return await this.pool.use((s) => op(s, key));
        } catch (e) {
          const code = pkcs11Code(e);
          if (code !== undefined && SESSION_ERRORS.has(code)) throw e;
          stale ||= code !== undefined && HANDLE_ERRORS.has(code);
          lastError = e;
        }
      }
      // An unwrap that failed under every key looks once more, in case another process added a key.
      if (!stale && !tryAll) break;
    }
    throw lastError;
  }

  async wrap(plaintext: Buffer, aad: Buffer, version: number): Promise<Buffer> {
    return this.withMasterKey(
      version,
      async (s, key) => {
        const iv = randomBytes(12);
        this.p11.C_EncryptInit(s, gcm(iv, aad), key);
        const ct = await this.p11.C_EncryptAsync(s, plaintext, Buffer.alloc(plaintext.length + 16));
        return Buffer.concat([BLOB_FORMAT, iv, ct]);
      },
      false,
    );
  }

  async unwrap(wrapped: Buffer, aad: Buffer, version: number): Promise<Buffer> {
    const { iv, body } = checkBlob(wrapped);
    try {
      return await this.withMasterKey(
        version,
        (s, key) => {
          this.p11.C_DecryptInit(s, gcm(iv, aad), key);
          return this.p11.C_DecryptAsync(s, body, Buffer.alloc(body.length));
        },
        true,
      );
    } catch (e) {
      const code = pkcs11Code(e);
      if (code !== undefined && (SESSION_ERRORS.has(code) || HANDLE_ERRORS.has(code))) throw e;
      if (code === undefined) throw e;
      throw new KeystoreIntegrityError();
    }
  }

  private signingKey(): Promise<{ priv: Handle; jwk: SigningJwk }> {
    this.signing ??= this.pool
      .use((s) => {
        let priv = this.findByLabel(s, pkcs11js.CKO_PRIVATE_KEY, SIGNING_LABEL);
        if (!priv.length) {
          this.generateSigningKey(s);
          // Searched again: of keys made concurrently by several processes, all pick the lowest CKA_ID.
          priv = this.findByLabel(s, pkcs11js.CKO_PRIVATE_KEY, SIGNING_LABEL);
        }
        const chosen = priv[0]!;
        const pub = this.findByLabel(s, pkcs11js.CKO_PUBLIC_KEY, SIGNING_LABEL).find((p) => p.id.equals(chosen.id));
        if (!pub) throw new Error("The JWT signing key's public half is missing from the token");
        let point = this.attr(s, pub.h, pkcs11js.CKA_EC_POINT);
        // CKA_EC_POINT is an OCTET STRING (04 20 || key) on SoftHSM; some HSMs return the raw 32 bytes.
        if (point.length === 34 && point[0] === 0x04 && point[1] === 0x20) point = point.subarray(2);
        if (point.length !== 32) throw new Error("Unexpected Ed25519 public key encoding from the token");
        return { priv: chosen.h, jwk: ed25519Jwk(point) };
      })
      .catch((e) => {
        this.signing = undefined;
        throw e;
      });
    return this.signing;
  }

  private generateSigningKey(s: Handle) {
    const id = randomBytes(16);
    const common = [
      { type: pkcs11js.CKA_KEY_TYPE, value: CKK_EC_EDWARDS },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_LABEL, value: SIGNING_LABEL },
      { type: pkcs11js.CKA_ID, value: id },
    ];
    this.p11.C_GenerateKeyPair(
      s,
      { mechanism: CKM_EC_EDWARDS_KEY_PAIR_GEN },
      [...common, { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY }, { type: pkcs11js.CKA_VERIFY, value: true }, { type: pkcs11js.CKA_EC_PARAMS, value: ED25519_OID }],
      [
        ...common,
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
        { type: pkcs11js.CKA_PRIVATE, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: true },
        { type: pkcs11js.CKA_EXTRACTABLE, value: false },
        { type: pkcs11js.CKA_SIGN, value: true },
      ],
    );
  }

  async sign(data: Buffer): Promise<Buffer> {
    const { priv } = await this.signingKey();
    return this.pool.use((s) => {
      this.p11.C_SignInit(s, { mechanism: CKM_EDDSA }, priv);
      return this.p11.C_SignAsync(s, data, Buffer.alloc(64));
    });
  }

  async signingJwk(): Promise<SigningJwk> {
    return { ...(await this.signingKey()).jwk };
  }

  selfTest(): Promise<void> {
    return selfTest(this);
  }

  /**
   * A live check (a session still logged in, a master key still found in the token), cached briefly so
   * that an unauthenticated health probe cannot turn into a stream of HSM calls.
   */
  health(): Promise<KeystoreHealth> {
    const now = Date.now();
    if (this.health_ && now - this.health_.at < HEALTH_CACHE_MS) return this.health_.value;
    const value = (async (): Promise<KeystoreHealth> => {
      try {
        const version = await this.currentMasterKeyVersion();
        const loggedIn = await this.pool.use((s) => {
          const { state } = this.p11.C_GetSessionInfo(s);
          return state === CKS_RW_USER_FUNCTIONS || state === CKS_RO_USER_FUNCTIONS;
        });
        const ok = loggedIn && version > 0;
        return { status: ok ? "ok" : "error", provider: "pkcs11", connected: ok, masterKeyVersion: version };
      } catch {
        return { status: "error", provider: "pkcs11", connected: false, masterKeyVersion: this.lastVersion };
      }
    })();
    this.health_ = { at: now, value };
    return value;
  }

  async close(): Promise<void> {
    this.pool.close();
    this.release();
  }
}
