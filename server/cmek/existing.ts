import type { CmekEnablePlan, CmekVersionBlob } from "../../lib/contract/cmek";
import { cmekKeyIdOf, inspectCmekBlob } from "../../lib/crypto/cmek";
import { sealSecretVersion } from "../crypto/envelope";
import type { Db, Tx } from "../db";
import { ApiError } from "../http/errors";

/**
 * Turning CMEK on in a vault that already holds values (docs/cmek.md, "Enabling on a vault with
 * secrets"). The server never sees the key: the client reads every version a read can still return
 * (through the ordinary, counted and audited read), encrypts each one, and sends the blobs in one
 * request; here they replace the stored values in one transaction, or nothing changes.
 *
 * Each version is one of three things, decided by the same rules the read path applies:
 * - `readable`: the client must send it;
 * - `erased`: no read can ever return it again (disabled, expired, read limit used up; none of these
 *   is reversible), so the client cannot encrypt it and keeping it would leave a value the server can
 *   read in a CMEK vault: its value is replaced by an empty one and the version disabled;
 * - `deleted`: a readable version of a soft-deleted secret, which a restore would bring back but which
 *   no read returns now: enabling is refused until the secret is restored (or its versions are dead).
 */
export type VersionRow = {
  id: string;
  secretId: string;
  version: number;
  isDisabled: boolean;
  expiresAt: Date | null;
  maxAccessCount: number;
  accessCount: number;
  cmekFingerprint: string | null;
  secret: { path: string; deletedAt: Date | null };
};

type State = "readable" | "erased" | "deleted";

function stateOf(v: VersionRow, now: number): State {
  if (v.isDisabled) return "erased";
  if (v.expiresAt && v.expiresAt.getTime() <= now) return "erased";
  if (v.maxAccessCount > 0 && v.accessCount >= v.maxAccessCount) return "erased";
  return v.secret.deletedAt ? "deleted" : "readable";
}

const VERSION_SELECT = {
  id: true,
  secretId: true,
  version: true,
  isDisabled: true,
  expiresAt: true,
  maxAccessCount: true,
  accessCount: true,
  cmekFingerprint: true,
  secret: { select: { path: true, deletedAt: true } },
} as const;

const vaultVersions = (db: Db | Tx, vaultId: string): Promise<VersionRow[]> =>
  db.secretVersion.findMany({ where: { secret: { vaultId } }, select: VERSION_SELECT, orderBy: [{ secret: { path: "asc" } }, { version: "asc" }] });

const refOf = (path: string, version: number) => `${path}@${version}`;

/** Paths named in a message: the first few, then how many more. */
function listed(refs: string[]): string {
  const shown = refs.slice(0, 5).join(", ");
  return refs.length > 5 ? `${shown} and ${refs.length - 5} more` : shown;
}

export async function planFor(db: Db, vaultId: string): Promise<CmekEnablePlan> {
  const rows = await vaultVersions(db, vaultId);
  const now = Date.now();
  const plan: CmekEnablePlan = { versions: [], erased: 0, deleted_paths: [] };
  for (const v of rows) {
    const state = stateOf(v, now);
    if (state === "readable") plan.versions.push({ path: v.secret.path, version: v.version });
    else if (state === "erased") plan.erased += 1;
    else if (!plan.deleted_paths.includes(v.secret.path)) plan.deleted_paths.push(v.secret.path);
  }
  return plan;
}

/**
 * Every blob is a well-formed 0x02 blob under the key `fingerprint` names, and no version comes twice:
 * a 400 naming the entry. What the server cannot check is the path bound into the blob's associated
 * data (it never holds the key): a blob made for another path is stored and fails to open for the
 * key holder, exactly as with a PUT.
 */
export function assertBlobsFor(fingerprint: string, versions: CmekVersionBlob[]): void {
  const want = cmekKeyIdOf(fingerprint);
  const seen = new Set<string>();
  versions.forEach((v, i) => {
    const info = inspectCmekBlob(v.blob);
    const field = `versions.${i}.blob`;
    if (!info.ok) throw ApiError.badRequest(`${field} ${info.reason}`, [{ field, message: info.reason }]);
    if (info.keyId !== want) {
      const message = `is under customer key id ${info.keyId}, not the key id ${want} of fingerprint ${fingerprint}`;
      throw ApiError.badRequest(`${field} ${message}`, [{ field, message }]);
    }
    const ref = refOf(v.path, v.version);
    if (seen.has(ref)) throw ApiError.badRequest(`versions.${i} repeats version ${v.version} of ${v.path}`, [{ field: `versions.${i}`, message: "repeats a version already in the list" }]);
    seen.add(ref);
  });
}

export type SwapResult = { encrypted: number; erased: number };

/**
 * Inside the enabling transaction, after the vault row was switched to CMEK (so on PostgreSQL every
 * write that held it share-locked has committed and is seen here, and every later one waits and then
 * gets 409): checks that `versions` covers exactly the readable versions, then swaps each value for its
 * sealed blob and erases the dead ones. Any mismatch throws, which rolls the whole transaction back.
 * `vaultKey` was fetched before the transaction; sealing under it is in-process AES-GCM.
 */
export async function swapInBlobs(tx: Tx, vaultId: string, fingerprint: string, vaultKey: Buffer, versions: CmekVersionBlob[]): Promise<SwapResult> {
  const rows = await vaultVersions(tx, vaultId);
  const now = Date.now();
  const sent = new Map(versions.map((v) => [refOf(v.path, v.version), v.blob]));
  const byRef = new Map(rows.map((r) => [refOf(r.secret.path, r.version), r]));

  const deleted = [...new Set(rows.filter((r) => stateOf(r, now) === "deleted").map((r) => r.secret.path))];
  if (deleted.length > 0) {
    throw ApiError.conflict(
      `Deleted secrets still hold readable versions (${listed(deleted)}): no read returns them now, so no client can encrypt them. Restore them, then enable CMEK (delete them again afterwards if you like)`,
    );
  }
  const missing = rows.filter((r) => stateOf(r, now) === "readable" && !sent.has(refOf(r.secret.path, r.version))).map((r) => refOf(r.secret.path, r.version));
  const extra = versions.filter((v) => !byRef.has(refOf(v.path, v.version))).map((v) => refOf(v.path, v.version));
  if (missing.length > 0 || extra.length > 0) {
    const parts = [
      missing.length > 0 ? `${missing.length} readable version${missing.length === 1 ? " is" : "s are"} missing (${listed(missing)})` : "",
      extra.length > 0 ? `${extra.length} version${extra.length === 1 ? " does" : "s do"} not exist in this vault (${listed(extra)})` : "",
    ].filter(Boolean);
    throw ApiError.conflict(`The versions sent are not this vault's readable versions: ${parts.join("; ")}. Someone wrote or deleted meanwhile: read the vault again and resend. Nothing was changed`);
  }

  const result: SwapResult = { encrypted: 0, erased: 0 };
  for (const r of rows) {
    const aad = { vaultId, secretId: r.secretId, version: r.version };
    const state = stateOf(r, now);
    // A version that died since the client read it (its last read was that one, or it expired) is erased, its blob unused.
    const data =
      state === "readable"
        ? { ciphertext: new Uint8Array(sealSecretVersion(vaultKey, aad, Buffer.from(sent.get(refOf(r.secret.path, r.version))!, "utf8"))), cmekFingerprint: fingerprint }
        : { ciphertext: new Uint8Array(sealSecretVersion(vaultKey, aad, Buffer.alloc(0))), cmekFingerprint: null, isDisabled: true };
    const { count } = await tx.secretVersion.updateMany({ where: { id: r.id, cmekFingerprint: null }, data });
    if (count !== 1) throw ApiError.conflict(`Version ${r.version} of ${r.secret.path} changed while CMEK was being enabled; nothing was changed, try again`);
    if (state === "readable") result.encrypted += 1;
    else result.erased += 1;
  }
  return result;
}
