import path from "node:path";
import type { Config } from "../config";
import type { Metrics } from "../metrics";
import { LocalKeystore } from "./local";
import { meterKeystore } from "./metered";
import { Pkcs11Keystore } from "./pkcs11";
import { softHsmConfigIsOurs, useSoftHsmConfig } from "./softhsm-setup";
import type { Keystore } from "./types";

/**
 * Opens the configured keystore, with master key v1 created on first use. Throws KeystoreFatalError
 * (wrong PIN, missing module or token) with a one-line message naming the variable to fix. With
 * `metrics`, every operation on the provider is counted and timed (./metered).
 */
export async function openKeystore(config: Config, metrics?: Metrics): Promise<Keystore> {
  const keystore = await openProvider(config);
  return metrics ? meterKeystore(keystore, metrics) : keystore;
}

async function openProvider(config: Config): Promise<Keystore> {
  const ks = config.keystore;
  if (ks.provider === "local") return LocalKeystore.open(ks);
  // SoftHSM without an operator-set config uses the one under the data dir (set before C_Initialize).
  if (path.basename(ks.module).includes("softhsm") && softHsmConfigIsOurs()) useSoftHsmConfig(config.dataDir);
  return Pkcs11Keystore.open(ks);
}
