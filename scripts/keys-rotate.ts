/**
 * `npm run keys:rotate [-- --destroy-old] [--batch-size N]`: creates the next master key in the
 * keystore and rewraps every vault's data key under it, while servers keep running. With
 * --destroy-old, the old master keys are destroyed once no vault uses them (after waiting for running
 * servers to switch). Reads the same environment as the server. Prints counts, never a key.
 */
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "../server/config";
import { rotateMasterKey } from "../server/crypto/rotate";
import { openDatabase } from "../server/db";
import { rewrapMfaSecrets } from "../server/identity/mfa";
import { rewrapWebhookSecrets } from "../server/webhooks/signing";
import { openKeystore } from "../server/keystore";
import { KeystoreFatalError } from "../server/keystore/types";

const USAGE = "usage: npm run keys:rotate [-- --destroy-old] [--batch-size N] [--settle-seconds N]";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      "destroy-old": { type: "boolean", default: false },
      "batch-size": { type: "string" },
      "settle-seconds": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const int = (s: string | undefined, name: string) => {
    if (s === undefined) return undefined;
    if (!/^\d+$/.test(s)) throw new ConfigError(`--${name} must be a whole number`);
    return Number(s);
  };
  const batchSize = int(values["batch-size"], "batch-size");
  const settleSeconds = int(values["settle-seconds"], "settle-seconds");

  const config = loadConfig();
  const keystore = await openKeystore(config);
  try {
    const { db, close } = await openDatabase(config.databaseUrl);
    try {
      const s = await rotateMasterKey(db, keystore, {
        destroyOld: values["destroy-old"],
        batchSize: batchSize || undefined,
        settleMs: settleSeconds === undefined ? undefined : settleSeconds * 1000,
        onProgress: (line) => console.log(line),
        rewrapOthers: async (toVersion) => {
          const r = await rewrapMfaSecrets({ db, keystore }, toVersion);
          console.log(`TOTP secrets rewrapped: ${r.rewrapped}; failed: ${r.failedUserIds.length}`);
          const w = await rewrapWebhookSecrets({ db, keystore }, toVersion);
          console.log(`webhook signing secrets rewrapped: ${w.rewrapped}; failed: ${w.failedWebhookIds.length}`);
          return { failed: r.failedUserIds.length + w.failedWebhookIds.length };
        },
      });
      console.log(`master key: v${s.fromVersion} -> v${s.toVersion} (${keystore.provider})`);
      console.log(`vault keys rewrapped: ${s.vaultsRewrapped}; skipped (changed concurrently): ${s.vaultsSkipped}`);
      console.log(`vaults still on an older version: ${s.vaultsOnOldVersions}`);
      if (s.failedVaultIds.length) console.log(`vaults whose key did not unwrap: ${s.failedVaultIds.join(", ")}`);
      if (values["destroy-old"]) {
        console.log(
          s.destroyedVersions.length
            ? `destroyed master keys: ${s.destroyedVersions.map((v) => `v${v}`).join(", ")}`
            : "old master keys kept: some vaults still use them (run again)",
        );
      }
      return s.vaultsOnOldVersions === 0 && s.othersFailed === 0 ? 0 : 2;
    } finally {
      await close();
    }
  } finally {
    await keystore.close();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    // One line, no stack: no error on this path carries a key or the PIN (KeystoreFatalError never does).
    const line = e instanceof KeystoreFatalError || e instanceof ConfigError ? e.message : e instanceof Error ? `${e.name}: ${e.message.split("\n")[0]}` : "unknown error";
    console.error(`keys:rotate failed: ${line}`);
    process.exit(1);
  },
);
