import { createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { BLOB_FORMAT, checkBlob, ed25519Jwk, type SigningJwk, selfTest } from "./common";
import { type Keystore, KeystoreFatalError, type KeystoreHealth, KeystoreIntegrityError, KeystoreKeyMissingError } from "./types";

/**
 * A software keystore for machines without an HSM: the keys sit in a 0600 JSON file and are used in
 * process. It is only ever chosen explicitly (TALON_KEYSTORE=local) and reports provider "local".
 */
type KeyFile = { format: 1; masterKeys: Record<string, string>; signing: { privateKey: string } };

function readKeyFile(file: string): KeyFile {
  const mode = statSync(file).mode;
  if ((mode & 0o077) !== 0) {
    throw new KeystoreFatalError(`The local keystore file ${file} is readable by other users: chmod 600 it`);
  }
  const parsed = JSON.parse(readFileSync(file, "utf8")) as KeyFile;
  if (parsed.format !== 1 || typeof parsed.masterKeys !== "object" || typeof parsed.signing?.privateKey !== "string") {
    throw new KeystoreFatalError(`The local keystore file ${file} is not a Talon key file`);
  }
  return parsed;
}

/** Written to a temp file and renamed, so that a reader never sees half a file. */
function writeKeyFile(file: string, data: KeyFile) {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(tmp, JSON.stringify(data), { mode: 0o600, flag: "wx" });
  renameSync(tmp, file);
}

export class LocalKeystore implements Keystore {
  readonly provider = "local" as const;
  private masterKeys = new Map<number, Buffer>();
  private signingKey: KeyObject;
  private jwk: SigningJwk;

  private constructor(
    private readonly file: string,
    data: KeyFile,
  ) {
    this.load(data);
    this.signingKey = createPrivateKey({ key: Buffer.from(data.signing.privateKey, "base64"), format: "der", type: "pkcs8" });
    const pub = createPublicKey(this.signingKey).export({ format: "jwk" });
    this.jwk = ed25519Jwk(Buffer.from(pub.x!, "base64url"));
  }

  static async open(cfg: { keyFile: string }): Promise<LocalKeystore> {
    let data: KeyFile;
    try {
      data = readKeyFile(cfg.keyFile);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") {
        if (e instanceof KeystoreFatalError) throw e;
        throw new KeystoreFatalError(`Cannot read the local keystore file ${cfg.keyFile}`);
      }
      const { privateKey } = generateKeyPairSync("ed25519");
      data = {
        format: 1,
        masterKeys: { "1": randomBytes(32).toString("base64") },
        signing: { privateKey: privateKey.export({ format: "der", type: "pkcs8" }).toString("base64") },
      };
      writeKeyFile(cfg.keyFile, data);
    }
    return new LocalKeystore(cfg.keyFile, data);
  }

  private load(data: KeyFile) {
    for (const [v, k] of Object.entries(data.masterKeys)) this.masterKeys.set(Number(v), Buffer.from(k, "base64"));
  }

  /** Re-read on demand: the rotation script (another process) adds and removes versions. */
  private reload(): KeyFile {
    const data = readKeyFile(this.file);
    this.masterKeys.clear();
    this.load(data);
    return data;
  }

  private key(version: number): Buffer {
    let key = this.masterKeys.get(version);
    if (!key) {
      this.reload();
      key = this.masterKeys.get(version);
    }
    if (!key) throw new KeystoreKeyMissingError(version);
    return key;
  }

  async currentMasterKeyVersion(): Promise<number> {
    return Math.max(0, ...(await this.masterKeyVersions()));
  }

  async masterKeyVersions(): Promise<number[]> {
    this.reload();
    return [...this.masterKeys.keys()].sort((x, y) => x - y);
  }

  async ensureMasterKey(version: number): Promise<void> {
    if (!Number.isInteger(version) || version < 1) throw new Error("Master key version must be a positive integer");
    const data = this.reload();
    if (data.masterKeys[String(version)]) return;
    data.masterKeys[String(version)] = randomBytes(32).toString("base64");
    writeKeyFile(this.file, data);
    this.load(data);
  }

  async destroyMasterKey(version: number): Promise<void> {
    if (version >= (await this.currentMasterKeyVersion())) throw new Error("Refusing to destroy the current master key");
    const data = this.reload();
    delete data.masterKeys[String(version)];
    writeKeyFile(this.file, data);
    this.masterKeys.delete(version);
  }

  async wrap(plaintext: Buffer, aad: Buffer, version: number): Promise<Buffer> {
    const iv = randomBytes(12);
    const c = createCipheriv("aes-256-gcm", this.key(version), iv).setAAD(aad);
    return Buffer.concat([BLOB_FORMAT, iv, c.update(plaintext), c.final(), c.getAuthTag()]);
  }

  async unwrap(wrapped: Buffer, aad: Buffer, version: number): Promise<Buffer> {
    const { iv, body } = checkBlob(wrapped);
    const key = this.key(version);
    try {
      const d = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: 16 }).setAAD(aad).setAuthTag(body.subarray(body.length - 16));
      return Buffer.concat([d.update(body.subarray(0, body.length - 16)), d.final()]);
    } catch {
      throw new KeystoreIntegrityError();
    }
  }

  async sign(data: Buffer): Promise<Buffer> {
    return sign(null, data, this.signingKey);
  }

  async signingJwk(): Promise<SigningJwk> {
    return { ...this.jwk };
  }

  selfTest(): Promise<void> {
    return selfTest(this);
  }

  /** Re-reads the key file (a rotation elsewhere may have changed it): a small local read, no HSM. */
  async health(): Promise<KeystoreHealth> {
    try {
      const version = await this.currentMasterKeyVersion();
      return { status: version > 0 ? "ok" : "error", provider: "local", connected: true, masterKeyVersion: version };
    } catch {
      return { status: "error", provider: "local", connected: false, masterKeyVersion: 0 };
    }
  }

  async close(): Promise<void> {
    this.masterKeys.clear();
  }
}
