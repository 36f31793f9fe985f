/**
 * The keystore holds every long-lived key Talon has: the master keys that seal vault data keys, and
 * the key that signs JWTs. With the `pkcs11` provider those keys are generated inside the HSM token
 * (non-extractable, sensitive) and never leave it; the `local` provider keeps them in a 0600 file and
 * says so in `/v1/health/hsm`.
 */
export type KeystoreProvider = "pkcs11" | "local";

export type KeystoreHealth = { status: "ok" | "error"; provider: KeystoreProvider; connected: boolean; masterKeyVersion: number };

export interface Keystore {
  readonly provider: KeystoreProvider;
  /** secp256k1 keys generated inside the HSM for the crypto proxy; absent on the local (software) keystore. */
  readonly secp256k1?: Secp256k1Keys;
  /** Highest master-key version present in the keystore. */
  currentMasterKeyVersion(): Promise<number>;
  /** Every master-key version present in the keystore, ascending. */
  masterKeyVersions(): Promise<number[]>;
  /** Generates master key `version` inside the keystore if it does not exist yet. */
  ensureMasterKey(version: number): Promise<void>;
  /** Destroys master key `version` (after every vault key was rewrapped away from it). */
  destroyMasterKey(version: number): Promise<void>;
  /** AES-256-GCM encryption under master key `version`, computed inside the keystore. */
  wrap(plaintext: Buffer, aad: Buffer, version: number): Promise<Buffer>;
  /** Inverse of wrap; throws KeystoreIntegrityError when the blob or its associated data was altered. */
  unwrap(wrapped: Buffer, aad: Buffer, version: number): Promise<Buffer>;
  /** Ed25519 signature over `data` with the JWT signing key (generated on first use). */
  sign(data: Buffer): Promise<Buffer>;
  /** The JWT signing key's public half as a JWK, with a stable `kid`. */
  signingJwk(): Promise<{ kty: "OKP"; crv: "Ed25519"; x: string; kid: string; alg: "EdDSA"; use: "sig" }>;
  /** Encrypt/decrypt round trip and a signature; throws when the keystore is unusable. */
  selfTest(): Promise<void>;
  health(): Promise<KeystoreHealth>;
  close(): Promise<void>;
}

export class KeystoreIntegrityError extends Error {
  constructor() {
    super("Keystore integrity check failed: ciphertext or associated data was altered");
    this.name = "KeystoreIntegrityError";
  }
}

/** The blob names a master-key version the keystore does not hold (destroyed, or another token). */
export class KeystoreKeyMissingError extends Error {
  constructor(version: number) {
    super(`Master key v${version} is not in the keystore`);
    this.name = "KeystoreKeyMissingError";
  }
}

/** Start-up must stop on this: a wrong PIN is never retried. */
export class KeystoreFatalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeystoreFatalError";
  }
}

/** secp256k1 key pairs inside the token (server/keystore/secp256k1.ts); the private halves never leave it. */
export interface Secp256k1Keys {
  /** Generates a key pair in the token; returns its reference (CKA_ID, hex) and the uncompressed public point (65 bytes, 0x04…). */
  generate(): Promise<{ keyRef: string; publicKey: Buffer }>;
  /** The uncompressed public point of a key, or null when the token no longer holds it. */
  publicKey(keyRef: string): Promise<Buffer | null>;
  /** Raw ECDSA over a 32-byte digest: r || s (64 bytes), s not normalised. */
  sign(keyRef: string, digest: Buffer): Promise<Buffer>;
  /** Destroys both halves; false when the token held neither. */
  destroy(keyRef: string): Promise<boolean>;
}
