import type { Config } from "../config";
import { vaultKeyAad } from "../crypto/vault-keys";
import type { Db } from "../db";
import { masterLabel } from "../keystore/pkcs11";
import { type Keystore, KeystoreFatalError, KeystoreIntegrityError } from "../keystore/types";

/**
 * Start-up check: the keystore holds every master key this database's vault keys are wrapped under.
 * A database restored without its HSM token (or pointed at another token) would otherwise start, answer
 * health checks, and fail every secret read. Presence alone is not enough: a fresh token gets its own
 * `talon-master-v1` at first start, so for each version in use a few wrapped vault keys are opened as
 * well (one HSM call each; a single damaged row must not stop the server, so it takes all of them
 * failing). Cost: one GROUP BY over the vault table and a handful of HSM calls.
 */
const PROBES_PER_VERSION = 3;

export function describeKeystore(config: Config): string {
  return config.keystore.provider === "pkcs11" ? `PKCS#11 token "${config.keystore.tokenLabel}"` : `the local keystore ${config.keystore.keyFile}`;
}

const keyName = (config: Config, version: number) => (config.keystore.provider === "pkcs11" ? `Master key v${version} (${masterLabel(version)})` : `Master key v${version}`);

export async function assertMasterKeysPresent(db: Db, keystore: Keystore, config: Config): Promise<void> {
  const inUse = await db.vault.groupBy({ by: ["masterKeyVersion"], _count: { _all: true }, orderBy: { masterKeyVersion: "asc" } });
  if (inUse.length === 0) return;
  const present = new Set(await keystore.masterKeyVersions());
  const fix = "start Talon with the keystore this database was sealed with (docs/operations/backup.md)";
  for (const { masterKeyVersion: version, _count } of inUse) {
    const sealed = `${_count._all} vault key${_count._all === 1 ? "" : "s"}`;
    if (!present.has(version)) {
      throw new KeystoreFatalError(`${keyName(config, version)} is missing from ${describeKeystore(config)}: this database has ${sealed} wrapped under it; ${fix}`);
    }
    const probes = await db.vault.findMany({ where: { masterKeyVersion: version }, select: { id: true, wrappedKey: true }, orderBy: { id: "asc" }, take: PROBES_PER_VERSION });
    let opened = false;
    for (const v of probes) {
      try {
        (await keystore.unwrap(Buffer.from(v.wrappedKey), vaultKeyAad(v.id), version)).fill(0);
        opened = true;
        break;
      } catch (e) {
        if (!(e instanceof KeystoreIntegrityError)) throw e;
      }
    }
    if (!opened) {
      throw new KeystoreFatalError(
        `${keyName(config, version)} in ${describeKeystore(config)} is not the key this database's ${sealed} are wrapped under (another token's key of the same name): the master key this database needs is missing; ${fix}`,
      );
    }
  }
}
