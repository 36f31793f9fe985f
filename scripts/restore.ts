/**
 * `npm run restore -- FILE`: restores a backup made by `npm run backup` onto a fresh data dir
 * (SQLite) or an empty PostgreSQL database, as named by DATABASE_URL / TALON_DATA_DIR. Every checksum
 * is checked before anything is written; nothing existing is ever overwritten. The HSM token is not
 * in the backup: bring it back first (docs/operations/backup.md); `npm start` refuses to start,
 * naming the master key, when the keystore lacks one the restored vaults need.
 */
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "../server/config";
import { restoreBackup } from "../server/ops/restore";

const USAGE = "usage: npm run restore -- FILE";

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { help: { type: "boolean", short: "h", default: false } } });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    console.error(USAGE);
    return 64;
  }
  const { manifest: m, target } = await restoreBackup(loadConfig(), positionals[0]!);
  console.log(`restored: ${target} from a backup of ${m.createdAt} (Talon ${m.talonVersion}, last migration ${m.database.lastMigration ?? "none"})`);
  console.log(`checked: ${m.counts.vaults} vaults, ${m.counts.secrets} secrets, ${m.counts.auditEvents} audit events, ${m.auditChains.length} audit chain heads match the manifest`);
  const keys = m.keystore.masterKeys.map((k) => `v${k.version}${k.label ? ` (${k.label})` : ""}`).join(", ");
  if (keys) {
    const where = m.keystore.provider === "pkcs11" ? `PKCS#11 token "${m.keystore.tokenLabel}"` : "the local keystore's key file";
    console.log(`before npm start: the keystore must hold master keys ${keys} from ${where}`);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    const line = e instanceof ConfigError ? e.message : e instanceof Error ? e.message.split("\n")[0] : "unknown error";
    console.error(`restore failed: ${line}`);
    process.exit(1);
  },
);
