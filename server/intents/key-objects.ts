import type { Tx } from "../db";
import { log } from "../log";
import type { Runtime } from "../runtime";

/**
 * HSM signing keys whose rows go away with their agent or org (database cascade). The rows are read
 * inside the deleting transaction, before the delete; the token objects are destroyed after it
 * commits, because no HSM call runs inside a transaction and a key must not be destroyed for a
 * deletion that then rolls back (funds at its address would be lost while the agent lives on).
 */
export type KeyObjectRow = { id: string; keyRef: string; address: string; chain: string };

export function signingKeysToDestroy(tx: Tx, where: { orgId: string; agentId?: string }): Promise<KeyObjectRow[]> {
  return tx.signingKey.findMany({ where, select: { id: true, keyRef: true, address: true, chain: true } });
}

/**
 * Destroys both halves of each key in the token. A key the token cannot destroy (HSM down) stays an
 * orphan object with no row: it is logged by its row id and CKA_ID — references, never key
 * material — so an operator can remove it; the deletion itself stands. Returns the ids destroyed.
 */
export async function destroySigningKeyObjects(rt: Pick<Runtime, "keystore">, rows: KeyObjectRow[], owner: Record<string, string>): Promise<string[]> {
  const keys = rt.keystore.secp256k1;
  if (!rows.length) return [];
  const destroyed: string[] = [];
  const failed: KeyObjectRow[] = [];
  for (const row of rows) {
    try {
      if (!keys) throw new Error("this keystore holds no secp256k1 keys");
      await keys.destroy(row.keyRef);
      destroyed.push(row.id);
    } catch {
      failed.push(row);
    }
  }
  if (failed.length) {
    log.error("HSM signing key objects of a deleted owner could not be destroyed; remove them from the token by CKA_ID", {
      ...owner,
      signing_key_ids: failed.map((r) => r.id),
      cka_ids: failed.map((r) => r.keyRef),
    });
  }
  return destroyed;
}
