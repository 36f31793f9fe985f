/**
 * `npm run backup -- --out FILE`: a consistent snapshot of Talon's database, with a manifest (Talon
 * version, last migration, master-key ids, audit chain heads, checksums), in one file. Runs while
 * Talon serves. Reads the same environment as the server (DATABASE_URL, TALON_DATA_DIR,
 * TALON_PKCS11_TOKEN_LABEL); needs no HSM access and holds no key: the HSM token is backed up
 * separately (docs/operations/backup.md).
 */
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "../server/config";
import { createBackup } from "../server/ops/backup";

const USAGE = "usage: npm run backup -- --out FILE";

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { out: { type: "string" }, help: { type: "boolean", short: "h", default: false } } });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.out) {
    console.error(USAGE);
    return 64;
  }
  const r = await createBackup(loadConfig(), values.out);
  const m = r.manifest;
  console.log(`backup written: ${r.file} (${r.bytes} bytes, ${m.dialect}, last migration ${m.database.lastMigration ?? "none"})`);
  console.log(`orgs ${m.counts.orgs}, vaults ${m.counts.vaults}, secrets ${m.counts.secrets} (${m.counts.secretVersions} versions), audit events ${m.counts.auditEvents} in ${m.auditChains.length} chains`);
  const keys = m.keystore.masterKeys.map((k) => `v${k.version}${k.label ? ` (${k.label})` : ""}`).join(", ") || "none yet";
  const where = m.keystore.provider === "pkcs11" ? `PKCS#11 token "${m.keystore.tokenLabel}"` : "the local keystore's key file";
  console.log(`restoring it needs master keys ${keys} from ${where}: back that up separately (docs/operations/backup.md)`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    // One line: no error on this path carries a key; database passwords are kept off command lines.
    const line = e instanceof ConfigError ? e.message : e instanceof Error ? e.message.split("\n")[0] : "unknown error";
    console.error(`backup failed: ${line}`);
    process.exit(1);
  },
);
