/**
 * HSM secp256k1 signing rate (crypto proxy), beside the raw PKCS#11 ECDSA rate measured in the same
 * run on the same token: a fresh SoftHSM2 token in a temp dir, one key generated in it.
 * - raw PKCS#11: C_SignInit + C_Sign (CKM_ECDSA) in a loop on one session of our own;
 * - Talon: keystore.secp256k1.sign through the session pool plus low-s normalisation and the
 *   recovery-id search (what every transaction signature costs), `concurrency` in flight.
 * Standalone: `npx tsx scripts/bench/hsm-secp256k1.ts [seconds]`; `npm run bench` prints it too.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Address, getAddress, keccak256, toHex } from "viem";
import { publicKeyToAddress } from "viem/accounts";
import { loadConfig } from "../../server/config";
import { finishHsmSignature } from "../../server/intents/signing";
import { openKeystore } from "../../server/keystore";
import { acquireLibrary, findObjects, findTokenSlot, pkcs11js, readPin } from "../../server/keystore/pkcs11-library";
import { ensureSoftHsmToken } from "../../server/keystore/softhsm-setup";

export type Secp256k1Bench = { rawPkcs11PerSecond: number; talonPerSecond: number; seconds: number; concurrency: number };

export async function benchSecp256k1(seconds = 3, concurrency = 4): Promise<Secp256k1Bench> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "talon-bench-k1-"));
  ensureSoftHsmToken(dataDir, "talon");
  const config = loadConfig({ NODE_ENV: "production", TALON_DATA_DIR: dataDir, TALON_LOG_LEVEL: "error" });
  const ks = await openKeystore(config);
  try {
    if (!ks.secp256k1 || config.keystore.provider !== "pkcs11") throw new Error("needs the pkcs11 keystore");
    const keys = ks.secp256k1;
    const { keyRef, publicKey } = await keys.generate();
    const address = getAddress(publicKeyToAddress(toHex(publicKey))) as Address;
    const digest = keccak256("0x00");
    const digestBuf = Buffer.from(digest.slice(2), "hex");

    const lib = acquireLibrary(config.keystore.module);
    let raw = 0;
    try {
      const { p11 } = lib;
      const s = p11.C_OpenSession(findTokenSlot(p11, config.keystore.tokenLabel)!, pkcs11js.CKF_SERIAL_SESSION);
      try {
        try {
          p11.C_Login(s, pkcs11js.CKU_USER, readPin(config.keystore));
        } catch {
          // Already logged in through the keystore's own sessions (login state is per application).
        }
        const [priv] = findObjects(p11, s, [
          { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
          { type: pkcs11js.CKA_ID, value: Buffer.from(keyRef, "hex") },
        ]);
        const end = Date.now() + seconds * 1000;
        while (Date.now() < end) {
          p11.C_SignInit(s, { mechanism: pkcs11js.CKM_ECDSA }, priv!);
          p11.C_Sign(s, digestBuf, Buffer.alloc(64));
          raw++;
        }
      } finally {
        p11.C_CloseSession(s);
      }
    } finally {
      lib.release();
    }

    let talon = 0;
    const end = Date.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (Date.now() < end) {
          await finishHsmSignature(await keys.sign(keyRef, digestBuf), digest, address);
          talon++;
        }
      }),
    );
    return { rawPkcs11PerSecond: raw / seconds, talonPerSecond: talon / seconds, seconds, concurrency };
  } finally {
    await ks.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export function formatSecp256k1Bench(b: Secp256k1Bench): string {
  return [
    `HSM secp256k1 (SoftHSM2), ${b.seconds} s each:`,
    `  raw PKCS#11 C_Sign (CKM_ECDSA, one session)        ${b.rawPkcs11PerSecond.toFixed(0).padStart(7)} sig/s`,
    `  Talon transaction signature (low-s + v, ${b.concurrency} in flight) ${b.talonPerSecond.toFixed(0).padStart(7)} sig/s`,
  ].join("\n");
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  benchSecp256k1(Number(process.argv[2] ?? 3))
    .then((b) => console.log(formatSecp256k1Bench(b)))
    .catch((e: unknown) => {
      console.error(`bench: cannot run: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    });
}
