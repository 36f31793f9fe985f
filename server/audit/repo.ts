import type { HotRow, HotTx } from "../db/hot";
import { hotOutbox } from "../webhooks/repo";
import { type AuditRowInput, appendToChain, auditLockKey, type ChainHead, type ChainStore } from "./chain";

/**
 * The audit chain's statements on a driver transaction (server/db/hot.ts), for the audit group commit
 * and the secret write batch: the same append as ./chain's Prisma store (same lock key, same chain
 * rules), prepared once instead of compiled per call. PostgreSQL inserts a batch with one statement
 * whatever its size (`unnest` of one array per column); SQLite runs one prepared insert per row.
 */
// PostgreSQL: the org locks and then the heads, in one call (the talon_audit_lock_heads migration).
export const LOCK_HEADS = `SELECT "orgId" AS "orgId", seq AS "seq", hash AS "hash" FROM talon_audit_lock_heads($1::text[], $2::text[])`;
// SQLite: the transaction began IMMEDIATE, so it already holds the database's write lock.
const HEAD = `SELECT seq AS "seq", hash AS "hash" FROM "AuditEvent" WHERE "orgId" = $1 AND seq IS NOT NULL ORDER BY seq DESC LIMIT 1`;
const COLUMNS = `id, "orgId", action, "actorId", "actorType", "resourceType", "resourceId", details, "ipAddress", "requestId", "createdAt", seq, "prevHash", hash`;
const INSERT_ONE = `INSERT INTO "AuditEvent" (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`;
const INSERT_MANY = `INSERT INTO "AuditEvent" (${COLUMNS})
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                       $11::timestamp(3)[], $12::int[], $13::text[], $14::text[])`;
// The same insert, and in the same round trip the active webhooks of the orgs the outbox will ask for
// (the lookup the outbox would otherwise send next, inside the chain lock): a data-modifying WITH runs to
// completion whether or not the SELECT reads it.
const INSERT_MANY_READING_HOOKS = `WITH ins AS (${INSERT_MANY})
  SELECT id AS "id", "orgId" AS "orgId", events AS "events" FROM "Webhook" WHERE "orgId" = ANY($15::text[]) AND "isActive" = true ORDER BY "orgId"`;

type Hook = { id: string; orgId: string; events: string };

/** The org ids whose webhooks the outbox looks up for `rows` (server/webhooks/outbox.ts: distinct, without ""). */
const hookOrgIds = (rows: readonly { orgId: string }[]) => [...new Set(rows.map((r) => r.orgId))].filter((o) => o !== "");
const sameIds = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** A row of LOCK_HEADS (or HEAD: seq null for none) as a chain head. */
export const chainHead = (r: HotRow | undefined): ChainHead | null =>
  r == null || r.seq == null ? null : { seq: Number(r.seq), hash: r.hash == null ? null : String(r.hash) };

function hotChain(tx: HotTx, locked?: ReadonlyMap<string, ChainHead | null>): ChainStore {
  const outbox = hotOutbox(tx);
  // PostgreSQL: the webhooks read with the insert, for the outbox's lookup that follows it.
  let hooksRead: { orgIds: string[]; hooks: Hook[] } | null = null;
  return {
    async lockHeads(orgIds) {
      if (locked) return locked;
      const heads = new Map<string, ChainHead | null>();
      if (tx.dialect === "postgres") {
        const rows = await tx.all("audit.lockHeads", LOCK_HEADS, [orgIds.map(auditLockKey), orgIds]);
        for (const r of rows) heads.set(String(r.orgId), chainHead(r));
      } else {
        for (const orgId of orgIds) heads.set(orgId, chainHead(await tx.get("audit.head", HEAD, [orgId])));
      }
      return heads;
    },
    async insert(rows) {
      if (tx.dialect === "sqlite") {
        for (const r of rows) {
          await tx.run("audit.insert", INSERT_ONE, [r.id, r.orgId, r.action, r.actorId, r.actorType, r.resourceType, r.resourceId, r.details, r.ipAddress, r.requestId, r.createdAt, r.seq, r.prevHash, r.hash]);
        }
        return;
      }
      const col = <K extends keyof (typeof rows)[number]>(k: K) => rows.map((r) => r[k]);
      // timestamp(3) without time zone holds UTC; an ISO string's zone is ignored on input, leaving UTC.
      const createdAt = rows.map((r) => r.createdAt.toISOString());
      const orgIds = hookOrgIds(rows);
      const found = await tx.all("audit.insertManyReadingHooks", INSERT_MANY_READING_HOOKS, [
        col("id"), col("orgId"), col("action"), col("actorId"), col("actorType"), col("resourceType"), col("resourceId"),
        col("details"), col("ipAddress"), col("requestId"), createdAt, col("seq"), col("prevHash"), col("hash"), orgIds,
      ]);
      hooksRead = { orgIds, hooks: found.map((r) => ({ id: String(r.id), orgId: String(r.orgId), events: String(r.events) })) };
    },
    outbox: {
      // The lookup for exactly the orgs read with the insert is answered from it; any other is asked.
      activeWebhooks: async (orgIds) => {
        const read = hooksRead;
        hooksRead = null;
        return read && sameIds(read.orgIds, orgIds) ? read.hooks : outbox.activeWebhooks(orgIds);
      },
      insertDeliveries: (rows) => outbox.insertDeliveries(rows),
    },
  };
}

/**
 * Appends events inside the caller's driver transaction, in the given order (see ./chain). `locked`:
 * the heads of every org of `rows`, read after the transaction took their chain locks (PostgreSQL:
 * LOCK_HEADS, in the chain's order and after any lock the chain would take first) — the write batch
 * takes them with its last write.
 */
export function appendAuditRowsOn(tx: HotTx, rows: readonly AuditRowInput[], locked?: ReadonlyMap<string, ChainHead | null>): Promise<void> {
  return appendToChain(hotChain(tx, locked), rows);
}
