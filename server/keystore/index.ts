import path from "node:path";
import type { Config } from "../config";
import { LocalKeystore } from "./local";
import { Pkcs11Keystore } from "./pkcs11";
import { softHsmConfigIsOurs, useSoftHsmConfig } from "./softhsm-setup";
import type { Keystore } from "./types";

/**
 * Opens the configured keystore, with master key v1 created on first use. Throws KeystoreFatalError
 * (wrong PIN, missing module or token) with a one-line message naming the variable to fix.
 */
export async function openKeystore(config: Config): Promise<Keystore> {
  const ks = config.keystore;
  if (ks.provider === "local") return LocalKeystore.open(ks);
  // SoftHSM without an operator-set config uses the one under the data dir (set before C_Initialize).
  if (path.basename(ks.module).includes("softhsm") && softHsmConfigIsOurs()) useSoftHsmConfig(config.dataDir);
  return Pkcs11Keystore.open(ks);
}
