import type { Db } from "../db";
import { type Keystore, KeystoreIntegrityError, KeystoreKeyMissingError } from "../keystore/types";
import { CURRENT_VERSION_REFRESH_MS, vaultKeyAad } from "./vault-keys";

/**
 * Online master-key rotation: a new master key is generated in the keystore, then every vault's data
 * key is unwrapped under its old version and wrapped again under the new one. Secret ciphertexts are
 * never touched (they are sealed under the vault keys, which do not change). Servers keep serving
 * throughout: old versions stay in the keystore until `destroyOld`, and they pick the new version up
 * within CURRENT_VERSION_REFRESH_MS.
 */
export type RotationOptions = {
  destroyOld?: boolean;
  batchSize?: number;
  /**
   * Before destroying old keys, wait this long after creating the new one, so that every running server
   * has stopped wrapping new vault keys under an old version (default: the servers' refresh interval + 5 s).
   */
  settleMs?: number;
  onProgress?: (line: string) => void;
  /**
   * Rewraps other keystore-sealed data (e.g. TOTP secrets) under the new version; returns how many
   * items could not be rewrapped. Old master keys are destroyed only when that is 0.
   */
  rewrapOthers?: (toVersion: number) => Promise<{ failed: number }>;
};

export type RotationSummary = {
  fromVersion: number;
  toVersion: number;
  vaultsRewrapped: number;
  /** Rows another run (or a deleted vault) changed under us: left alone. */
  vaultsSkipped: number;
  /** Vaults whose wrapped key does not open (altered, or its master key is gone): left as they are. */
  failedVaultIds: string[];
  vaultsOnOldVersions: number;
  /** Items of `rewrapOthers` left on an old version. */
  othersFailed: number;
  destroyedVersions: number[];
};

const CONCURRENCY = 4;

async function rewrapPass(db: Db, keystore: Keystore, toVersion: number, batchSize: number, summary: RotationSummary, progress: (l: string) => void) {
  let after = "";
  for (;;) {
    const batch = await db.vault.findMany({
      where: { masterKeyVersion: { lt: toVersion }, id: { gt: after } },
      select: { id: true, wrappedKey: true, masterKeyVersion: true },
      orderBy: { id: "asc" },
      take: batchSize,
    });
    if (batch.length === 0) return;
    after = batch[batch.length - 1]!.id;
    for (let i = 0; i < batch.length; i += CONCURRENCY) {
      await Promise.all(
        batch.slice(i, i + CONCURRENCY).map(async (v) => {
          const aad = vaultKeyAad(v.id);
          let key: Buffer;
          try {
            key = await keystore.unwrap(Buffer.from(v.wrappedKey), aad, v.masterKeyVersion);
          } catch (e) {
            // One broken row must not stop the others; it keeps its old master key alive (no destroy).
            if (!(e instanceof KeystoreIntegrityError || e instanceof KeystoreKeyMissingError)) throw e;
            if (!summary.failedVaultIds.includes(v.id)) summary.failedVaultIds.push(v.id);
            progress(`vault ${v.id}: its data key does not unwrap under v${v.masterKeyVersion}; left unchanged`);
            return;
          }
          const wrappedKey = await keystore.wrap(key, aad, toVersion);
          key.fill(0);
          // Conditional on the version we read: a concurrent run that already moved this row wins.
          const { count } = await db.vault.updateMany({
            where: { id: v.id, masterKeyVersion: v.masterKeyVersion },
            data: { wrappedKey: new Uint8Array(wrappedKey), masterKeyVersion: toVersion },
          });
          if (count === 1) summary.vaultsRewrapped++;
          else summary.vaultsSkipped++;
        }),
      );
    }
    progress(`rewrapped ${summary.vaultsRewrapped} vault keys so far`);
  }
}

/** Raises KeystoreState to `version`, never lowers it (a concurrent run may already be further). */
async function recordVersion(db: Db, version: number) {
  const { count } = await db.keystoreState.updateMany({ where: { id: 1, masterKeyVersion: { lt: version } }, data: { masterKeyVersion: version } });
  if (count === 0 && !(await db.keystoreState.findUnique({ where: { id: 1 } }))) {
    try {
      await db.keystoreState.create({ data: { id: 1, masterKeyVersion: version } });
    } catch {
      // Created concurrently: raise it instead.
      await db.keystoreState.updateMany({ where: { id: 1, masterKeyVersion: { lt: version } }, data: { masterKeyVersion: version } });
    }
  }
}

export async function rotateMasterKey(db: Db, keystore: Keystore, opts: RotationOptions = {}): Promise<RotationSummary> {
  const progress = opts.onProgress ?? (() => {});
  const batchSize = opts.batchSize ?? 200;
  const fromVersion = await keystore.currentMasterKeyVersion();
  const state = await db.keystoreState.findUnique({ where: { id: 1 } });
  if (state && state.masterKeyVersion > fromVersion) {
    throw new Error(`The database uses master key v${state.masterKeyVersion} but the keystore's newest is v${fromVersion}: wrong token?`);
  }
  const toVersion = fromVersion + 1;
  await keystore.ensureMasterKey(toVersion);
  const createdAt = Date.now();
  await recordVersion(db, toVersion);
  progress(`master key v${toVersion} created`);

  const summary: RotationSummary = { fromVersion, toVersion, vaultsRewrapped: 0, vaultsSkipped: 0, failedVaultIds: [], vaultsOnOldVersions: 0, othersFailed: 0, destroyedVersions: [] };
  await rewrapPass(db, keystore, toVersion, batchSize, summary, progress);

  if (opts.destroyOld) {
    const settleMs = opts.settleMs ?? CURRENT_VERSION_REFRESH_MS + 5000;
    const wait = createdAt + settleMs - Date.now();
    if (wait > 0) {
      progress(`waiting ${Math.ceil(wait / 1000)} s for running servers to switch to v${toVersion}`);
      await new Promise((r) => setTimeout(r, wait));
    }
    // Servers that had not switched yet may have created vaults under an old version meanwhile.
    await rewrapPass(db, keystore, toVersion, batchSize, summary, progress);
  }
  summary.vaultsOnOldVersions = await db.vault.count({ where: { masterKeyVersion: { lt: toVersion } } });
  if (opts.rewrapOthers) summary.othersFailed = (await opts.rewrapOthers(toVersion)).failed;

  if (opts.destroyOld && summary.vaultsOnOldVersions === 0 && summary.othersFailed === 0) {
    for (const v of await keystore.masterKeyVersions()) {
      if (v >= toVersion) continue;
      await keystore.destroyMasterKey(v);
      summary.destroyedVersions.push(v);
    }
  }
  return summary;
}
