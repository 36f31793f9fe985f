import { randomBytes } from "node:crypto";
import { findObjects, type Handle, type Pkcs11, pkcs11js, type SessionPool } from "./pkcs11-library";
import type { Secp256k1Keys } from "./types";

export type { Secp256k1Keys } from "./types";

/** DER of OID 1.3.132.0.10 (secp256k1), the CKA_EC_PARAMS value. */
export const SECP256K1_OID = Buffer.from("06052b8104000a", "hex");
const LABEL = "talon-secp256k1";
const KEY_REF = /^[0-9a-f]{32}$/;

/**
 * secp256k1 key pairs generated inside the PKCS#11 token for the crypto proxy. The private half is
 * created sensitive and non-extractable and is only ever used through C_Sign with CKM_ECDSA on a
 * 32-byte digest; what leaves the token is the public point and raw (r, s) signatures. The caller
 * (server/intents/signing) normalises s and recovers v — the token knows nothing about Ethereum.
 * Works with any module that implements secp256k1 under CKK_EC (SoftHSM2 does).
 */
export class Pkcs11Secp256k1Keys implements Secp256k1Keys {
  constructor(
    private readonly p11: Pkcs11,
    private readonly pool: SessionPool,
  ) {}

  private find(s: Handle, cls: number, keyRef: string): Handle[] {
    if (!KEY_REF.test(keyRef)) return [];
    return findObjects(this.p11, s, [
      { type: pkcs11js.CKA_CLASS, value: cls },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_ID, value: Buffer.from(keyRef, "hex") },
    ]);
  }

  private point(s: Handle, pub: Handle): Buffer {
    let point = this.p11.C_GetAttributeValue(s, pub, [{ type: pkcs11js.CKA_EC_POINT }])[0]?.value ?? Buffer.alloc(0);
    // CKA_EC_POINT is a DER OCTET STRING (04 41 04||X||Y) per the standard; some modules return the raw point.
    if (point.length === 67 && point[0] === 0x04 && point[1] === 0x41) point = point.subarray(2);
    if (point.length !== 65 || point[0] !== 0x04) throw new Error("Unexpected secp256k1 public key encoding from the token");
    return Buffer.from(point);
  }

  async generate(): Promise<{ keyRef: string; publicKey: Buffer }> {
    const id = randomBytes(16);
    const common = [
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_LABEL, value: LABEL },
      { type: pkcs11js.CKA_ID, value: id },
    ];
    return this.pool.use(async (s) => {
      const keys = await this.p11.C_GenerateKeyPairAsync(
        s,
        { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN },
        [
          ...common,
          { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
          { type: pkcs11js.CKA_VERIFY, value: true },
          { type: pkcs11js.CKA_EC_PARAMS, value: SECP256K1_OID },
        ],
        [
          ...common,
          { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
          { type: pkcs11js.CKA_PRIVATE, value: true },
          { type: pkcs11js.CKA_SENSITIVE, value: true },
          { type: pkcs11js.CKA_EXTRACTABLE, value: false },
          { type: pkcs11js.CKA_SIGN, value: true },
          { type: pkcs11js.CKA_DERIVE, value: false },
        ],
      );
      return { keyRef: id.toString("hex"), publicKey: this.point(s, keys.publicKey) };
    });
  }

  async publicKey(keyRef: string): Promise<Buffer | null> {
    return this.pool.use((s) => {
      const [pub] = this.find(s, pkcs11js.CKO_PUBLIC_KEY, keyRef);
      return pub ? this.point(s, pub) : null;
    });
  }

  async sign(keyRef: string, digest: Buffer): Promise<Buffer> {
    if (digest.length !== 32) throw new Error("secp256k1 signing takes a 32-byte digest");
    return this.pool.use(async (s) => {
      const [priv] = this.find(s, pkcs11js.CKO_PRIVATE_KEY, keyRef);
      if (!priv) throw new Error("The signing key is not in the token");
      this.p11.C_SignInit(s, { mechanism: pkcs11js.CKM_ECDSA }, priv);
      const sig = await this.p11.C_SignAsync(s, digest, Buffer.alloc(64));
      if (sig.length !== 64) throw new Error("Unexpected ECDSA signature length from the token");
      return sig;
    });
  }

  async destroy(keyRef: string): Promise<boolean> {
    return this.pool.use((s) => {
      const handles = [...this.find(s, pkcs11js.CKO_PRIVATE_KEY, keyRef), ...this.find(s, pkcs11js.CKO_PUBLIC_KEY, keyRef)];
      for (const h of handles) this.p11.C_DestroyObject(s, h);
      return handles.length > 0;
    });
  }
}
