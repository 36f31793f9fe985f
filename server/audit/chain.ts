import { sha256 } from "../crypto/digest";
import type { Db, Dialect, Tx } from "../db";
import { onAuditAppended, type OutboxStore, prismaOutbox } from "../webhooks/outbox";

/**
 * The per-org hash chain of the audit log. Every event carries `seq` (1, 2, 3… per org, gapless),
 * `prevHash` (the previous event's hash in that org, or GENESIS) and `hash` = SHA-256 over the
 * canonical encoding below. Editing, inserting or deleting a row breaks the chain at that row, and
 * `verifyChain` finds it. Events without an org (failed logins for unknown emails) are chained under
 * the org id "" like any other org.
 *
 * Appends are serialised per org inside the writer's own transaction, so the event commits (or not)
 * with the change it records: PostgreSQL takes a transaction-scoped advisory lock on the org (holds
 * across instances), SQLite takes the database write lock at once with a no-op write (one writer at a
 * time; without it a deferred transaction that read the chain head could fail to upgrade). The unique
 * (orgId, seq) index stays as the last line of defence: a fork is a constraint violation, never data.
 */
export const GENESIS_HASH = "0".repeat(64);

export type AuditRowInput = {
  id: string;
  orgId: string;
  actorId: string;
  actorType: string;
  action: string;
  resourceType: string;
  resourceId: string;
  details: string;
  ipAddress: string;
  requestId: string;
  createdAt: Date;
};

export type ChainedFields = { seq: number; prevHash: string };

/** An event as stored: its chain fields are null only on rows Talon never wrote. */
export type StoredAuditEvent = AuditRowInput & { seq: number | null; prevHash: string | null; hash: string | null };

/**
 * A JSON array in a fixed field order: strings are escaped by JSON, so no two different events encode
 * alike, and no key ordering question arises. The leading 1 is the encoding's version.
 */
export function canonicalEncoding(row: AuditRowInput & ChainedFields): string {
  return encodingAt(row, row.seq, row.prevHash);
}

/** `row`'s canonical encoding with the chain fields given apart (chainOnto: no row object is built to hash). */
function encodingAt(row: AuditRowInput, seq: number, prevHash: string): string {
  return encodingFrom(encodingAround(row), seq, prevHash);
}

const encodingFrom = ([before, between]: readonly [string, string], seq: number, prevHash: string) => `${before}${seq}${between}${JSON.stringify(prevHash)}]`;

/**
 * The canonical encoding of `row` less its chain fields: the text before `seq` and the text between
 * `seq` and `prevHash`. Every string is escaped here; what goes between is an integer and a quoted hex
 * hash, so a database can chain events (talon_audit_chain) by concatenation alone, as this module would.
 */
export function encodingAround(row: AuditRowInput): [before: string, between: string] {
  const head = JSON.stringify([1, row.id, row.orgId]);
  const middle = JSON.stringify([row.action, row.actorId, row.actorType, row.resourceType, row.resourceId, row.details, row.ipAddress, row.requestId, row.createdAt.getTime()]);
  return [`${head.slice(0, -1)},`, `,${middle.slice(1, -1)},`];
}

/** The hash of `row` chained at `seq` after `prevHash` (chainOnto hashes from the parts, eventHash from a chained row). */
const hashAt = (row: AuditRowInput, seq: number, prevHash: string) => sha256(encodingAt(row, seq, prevHash), "hex");

export const eventHash = (row: AuditRowInput & ChainedFields) => hashAt(row, row.seq, row.prevHash);

/** The hash of an event whose encodingAround is `around`, chained at `seq` after `prevHash`: eventHash without encoding it again. */
export const hashFromAround = (around: readonly [string, string], seq: number, prevHash: string) => sha256(encodingFrom(around, seq, prevHash), "hex");

/**
 * `r` chained: every field named, in one order, so every event has one object shape (a spread of
 * callers' rows was ≈ 2 % of a read's main thread under load, docs/perf), and nothing but its columns.
 */
export const chainedRow = (r: AuditRowInput, seq: number, prevHash: string, hash: string): ChainedRow => ({
  id: r.id,
  orgId: r.orgId,
  actorId: r.actorId,
  actorType: r.actorType,
  action: r.action,
  resourceType: r.resourceType,
  resourceId: r.resourceId,
  details: r.details,
  ipAddress: r.ipAddress,
  requestId: r.requestId,
  createdAt: r.createdAt,
  seq,
  prevHash,
  hash,
});

type Client = Db | Tx;

/** Both generated clients expose their provider; "postgresql" is the only one that needs the advisory lock. */
export function dialectOf(client: Client): Dialect {
  return (client as unknown as { _activeProvider?: string })._activeProvider === "postgresql" ? "postgres" : "sqlite";
}

export type ChainedRow = AuditRowInput & ChainedFields & { hash: string };

/** An org's last chained event: its `seq` and `hash` (null only on rows Talon never wrote). */
export type ChainHead = { seq: number; hash: string | null };

/** What an append reads and writes inside the caller's transaction: a Prisma one, or the driver's (./repo). */
export type ChainStore = {
  /**
   * Serialises appends to each org's chain until the transaction ends (locking the orgs in the given,
   * sorted, order), then reads each org's last chained event, if any.
   */
  lockHeads(orgIds: readonly string[]): Promise<ReadonlyMap<string, ChainHead | null>>;
  insert(rows: readonly ChainedRow[]): Promise<void>;
  outbox: OutboxStore;
};

function prismaChain(tx: Tx): ChainStore {
  const postgres = dialectOf(tx) === "postgres";
  return {
    async lockHeads(orgIds) {
      const heads = new Map<string, ChainHead | null>();
      for (const orgId of orgIds) {
        if (postgres) await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${auditLockKey(orgId)}, 0))`;
        // SQLite: the database write lock at once, with a no-op write (a deferred transaction that read
        // the chain head could otherwise fail to upgrade).
        else await tx.$executeRaw`UPDATE "AuditEvent" SET "seq" = "seq" WHERE 0`;
        const last = await tx.auditEvent.findFirst({ where: { orgId, seq: { not: null } }, orderBy: { seq: "desc" }, select: { seq: true, hash: true } });
        heads.set(orgId, last ? { seq: last.seq!, hash: last.hash } : null);
      }
      return heads;
    },
    insert: async (rows) => void (await tx.auditEvent.createMany({ data: [...rows] })),
    outbox: prismaOutbox(tx),
  };
}

/** The advisory-lock key of an org's chain (PostgreSQL); the same for both stores, so they exclude each other. */
export const auditLockKey = (orgId: string) => `talon.audit:${orgId}`;

/**
 * Chains and inserts events in the given order. Orgs are locked in sorted order so two batches
 * spanning the same orgs cannot deadlock each other. Webhook deliveries (durable outbox) go in the same
 * transaction: an event and its deliveries commit together.
 */
export async function appendToChain(store: ChainStore, rows: readonly AuditRowInput[]): Promise<void> {
  const orgIds = chainOrgs(rows);
  const chained = chainOnto(rows, orgIds, await store.lockHeads(orgIds));
  await store.insert(chained);
  await onAuditAppended(store.outbox, chained);
}

/** The orgs of `rows`, sorted: the order their chain locks are taken in. */
export const chainOrgs = (rows: readonly AuditRowInput[]): string[] => [...new Set(rows.map((r) => r.orgId))].sort();

/**
 * `rows` chained onto each org's head (`heads` must hold every org of `orgIds`, null for an org without
 * events yet): grouped by org in `orgIds`' order, each org's rows in their given order. `around`, when
 * given, holds each row's encodingAround (in `rows`' order), made once by a caller that chains a batch
 * more than once or sends it too.
 */
export function chainOnto(
  rows: readonly AuditRowInput[],
  orgIds: readonly string[],
  heads: ReadonlyMap<string, ChainHead | null>,
  around?: readonly (readonly [string, string])[],
): ChainedRow[] {
  const chained: ChainedRow[] = [];
  for (const orgId of orgIds) {
    const last = heads.get(orgId);
    if (last === undefined) throw new Error("The chain store did not read the head of an org it locked");
    let head = last ? { seq: last.seq, hash: last.hash ?? GENESIS_HASH } : { seq: 0, hash: GENESIS_HASH };
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      if (r.orgId !== orgId) continue;
      const seq = head.seq + 1;
      const hash = around ? hashFromAround(around[i]!, seq, head.hash) : hashAt(r, seq, head.hash);
      chained.push(chainedRow(r, seq, head.hash, hash));
      head = { seq, hash };
    }
  }
  return chained;
}

/** Appends events inside the caller's Prisma transaction, in the given order (for a driver transaction: ./repo). */
export function appendAuditRows(tx: Tx, rows: AuditRowInput[]): Promise<void> {
  return appendToChain(prismaChain(tx), rows);
}

/** One event, inside the transaction that makes the change it records (use instead of `tx.auditEvent.create`). */
export function appendAudit(tx: Tx, row: AuditRowInput): Promise<void> {
  return appendAuditRows(tx, [row]);
}
