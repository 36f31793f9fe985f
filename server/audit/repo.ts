import type { HotRow, HotSql, HotTx } from "../db/hot";
import { noteAuditSinks, onAuditAppended, webhookDeliveries, webhookOrgIds } from "../webhooks/outbox";
import { hotOutbox } from "../webhooks/repo";
import {
  type AuditRowInput,
  appendToChain,
  auditLockKey,
  chainedRow,
  chainOnto,
  type ChainedRow,
  chainOrgs,
  type ChainHead,
  type ChainStore,
  encodingAround,
  hashFromAround,
} from "./chain";

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

/**
 * Chained events as one array per column, in COLUMNS' order: the parameters of a PostgreSQL `unnest`
 * insert (INSERT_MANY here, talon_audit_record's events). timestamp(3) without time zone holds UTC: an
 * ISO string's zone is ignored on input, leaving UTC.
 */
function eventColumns(rows: readonly ChainedRow[]): unknown[][] {
  return [...rowColumns(rows), rows.map((r) => r.seq), rows.map((r) => r.prevHash), rows.map((r) => r.hash)];
}

/** The first 11 of those: the columns of an event before it is chained. */
function rowColumns(rows: readonly AuditRowInput[]): unknown[][] {
  const col = <K extends keyof AuditRowInput>(k: K) => rows.map((r) => r[k]);
  return [
    col("id"), col("orgId"), col("action"), col("actorId"), col("actorType"), col("resourceType"), col("resourceId"),
    col("details"), col("ipAddress"), col("requestId"), rows.map((r) => r.createdAt.toISOString()),
  ];
}

const sameIds = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** A row of LOCK_HEADS (or HEAD: seq null for none) as a chain head. */
export const chainHead = (r: HotRow | undefined): ChainHead | null =>
  r == null || r.seq == null ? null : { seq: Number(r.seq), hash: r.hash == null ? null : String(r.hash) };

function hotChain(tx: HotTx): ChainStore {
  const outbox = hotOutbox(tx);
  // PostgreSQL: the webhooks read with the insert, for the outbox's lookup that follows it.
  let hooksRead: { orgIds: string[]; hooks: Hook[] } | null = null;
  return {
    async lockHeads(orgIds) {
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
        const values = rows.map((r) => [r.id, r.orgId, r.action, r.actorId, r.actorType, r.resourceType, r.resourceId, r.details, r.ipAddress, r.requestId, r.createdAt, r.seq, r.prevHash, r.hash]);
        await tx.runEach("audit.insert", INSERT_ONE, values);
        return;
      }
      const orgIds = webhookOrgIds(rows);
      const found = await tx.all("audit.insertManyReadingHooks", INSERT_MANY_READING_HOOKS, [...eventColumns(rows), orgIds]);
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

/** Appends events inside the caller's driver transaction, in the given order (see ./chain). */
export function appendAuditRowsOn(tx: HotTx, rows: readonly AuditRowInput[]): Promise<void> {
  return appendToChain(hotChain(tx), rows);
}

/**
 * PostgreSQL: an append that a statement of the caller's transaction makes (the talon_audit_chain
 * migration; the secret write batch calls it from its write statement, server/secrets/repo.ts): the
 * database takes the chain's locks and reads the heads, chains the events (by concatenating the
 * canonical encoding's fixed parts, which this process sends, with each event's seq and prevHash) and
 * inserts them, and the chain's lock is held from that statement to COMMIT with no round trip to this
 * process between. `call(first)` is the function's call with its parameters numbered from `first`;
 * `params` are its values; `finish` takes what the call answered, checks every hash the database made
 * against this process's own (a mismatch fails the transaction: no event is ever stored with a hash
 * that verifyChain would refuse), then writes the events' webhook deliveries, in the same transaction.
 */
export class StatementAppend {
  /** How many parameters `call` takes. */
  static readonly PARAMS = 16;
  private readonly orgIds: string[];
  /** Each row's encodingAround, sent to the database and kept to check the hashes it answers. */
  private readonly around: [string, string][];
  readonly params: unknown[];

  constructor(private readonly rows: readonly AuditRowInput[]) {
    this.orgIds = chainOrgs(rows);
    const around = (this.around = rows.map(encodingAround));
    this.params = [this.orgIds.map(auditLockKey), this.orgIds, ...rowColumns(rows), around.map((a) => a[0]), around.map((a) => a[1]), webhookOrgIds(rows)];
  }

  static call(first: number): string {
    const p = (i: number, type = "text[]") => `$${first + i}::${type}`;
    const args = Array.from({ length: StatementAppend.PARAMS }, (_, i) => p(i, i === 12 ? "timestamp(3)[]" : "text[]"));
    return `talon_audit_chain(${args.join(", ")})`;
  }

  /** `answer`: the call's rows, as [kind, id, orgId, seq, prevHash, hash, events]. */
  async finish(tx: HotTx, answer: readonly (readonly unknown[])[]): Promise<void> {
    const made = new Map<string, { seq: number; prevHash: string; hash: string }>();
    const hooks: Hook[] = [];
    for (const [kind, id, orgId, seq, prevHash, hash, events] of answer) {
      if (kind === "event") made.set(String(id), { seq: Number(seq), prevHash: String(prevHash), hash: String(hash) });
      else if (kind === "hook") hooks.push({ id: String(id), orgId: String(orgId), events: String(events) });
    }
    // In chainOnto's order: by org as locked, each org's events in their given order.
    const chained: ChainedRow[] = [];
    for (const orgId of this.orgIds) {
      for (let i = 0; i < this.rows.length; i++) {
        const r = this.rows[i]!;
        if (r.orgId !== orgId) continue;
        const m = made.get(r.id);
        if (!m) throw new Error("The database did not chain every event of the batch");
        if (hashFromAround(this.around[i]!, m.seq, m.prevHash) !== m.hash) throw new Error("The database chained an event with another hash than its encoding's");
        chained.push(chainedRow(r, m.seq, m.prevHash, m.hash));
      }
    }
    const outbox = hotOutbox(tx);
    await onAuditAppended({ activeWebhooks: async () => hooks, insertDeliveries: (d) => outbox.insertDeliveries(d) }, chained);
  }
}

// PostgreSQL: a whole batch in one statement (the talon_audit_record migration): inserted as chained here
// when the chain heads and webhooks were guessed right, chained again by the database onto the heads it
// finds when only a head was wrong and the batch makes no webhook delivery. It commits on its own,
// outside any transaction block.
const RECORD = `SELECT kind AS "kind", "orgId" AS "orgId", seq AS "seq", "prevHash" AS "prevHash", hash AS "hash", id AS "id", events AS "events"
  FROM talon_audit_record($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[],
    $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[],
    $18::timestamp(3)[], $19::int[], $20::text[], $21::text[],
    $22::text[], $23::text[], $24::text[], $25::text[], $26::text[], $27::timestamp(3)[], $28::text[], $29::text[])`;

/** Bounds what an instance remembers (orgs); past it, it starts over and guesses again. */
const MAX_GUESSED_ORGS = 10_000;

/**
 * What this instance last saw of each org's chain head and active webhooks, to chain a batch before
 * the database is asked (appendGuessed). Only ever a guess: the database checks it under the chain's
 * lock, so a wrong one (another instance appended, a webhook changed) costs a retry, never a fork.
 */
export class ChainGuesses {
  private readonly heads = new Map<string, ChainHead | null>();
  private readonly hooks = new Map<string, Hook[]>();

  /** The org's head as last seen; an org never seen is guessed to have no events yet. */
  head(orgId: string): ChainHead | null {
    return this.heads.get(orgId) ?? null;
  }

  /** The orgs' active webhooks as last seen; an org never seen is guessed to have none. */
  hooksOf(orgIds: readonly string[]): Hook[] {
    return orgIds.flatMap((o) => this.hooks.get(o) ?? []);
  }

  /** After an append committed: each org's head is its last chained row. */
  appended(chained: readonly ChainedRow[]): void {
    for (const r of chained) this.setHead(r.orgId, { seq: r.seq, hash: r.hash });
  }

  /** What the database answered when a guess was wrong: every org's head, and every active webhook of those orgs. */
  found(orgIds: readonly string[], rows: readonly HotRow[]): void {
    const hooks = new Map<string, Hook[]>(orgIds.map((o) => [o, []]));
    for (const r of rows) {
      if (r.kind === "head") this.setHead(String(r.orgId), chainHead(r));
      else if (r.kind === "hook") hooks.get(String(r.orgId))?.push({ id: String(r.id), orgId: String(r.orgId), events: String(r.events) });
    }
    for (const [orgId, list] of hooks) this.hooks.set(orgId, list);
  }

  private setHead(orgId: string, head: ChainHead | null): void {
    if (this.heads.size >= MAX_GUESSED_ORGS && !this.heads.has(orgId)) {
      this.heads.clear();
      this.hooks.clear();
    }
    this.heads.set(orgId, head);
  }
}

/**
 * PostgreSQL: appends `rows` in one statement that commits on its own, chained onto the heads and with
 * the webhook deliveries `guesses` predicts; the database takes the chain locks and checks the guess
 * (talon_audit_record). A right guess is written as sent. A wrong head, in a batch that makes no
 * webhook delivery (a delivery names its event's seq and hash), is chained again by the database onto
 * the heads it finds, after checking that each event's hash as made here is its encoding's as the
 * database concatenates it (so every hash it makes is one verifyChain accepts), and answered event by
 * event. Otherwise (other webhooks than guessed, or a wrong head with deliveries) nothing is written and
 * the answer corrects the guess for another attempt, up to `attempts`; resolves false if none went in,
 * and the caller appends under the locks instead (appendAuditRowsOn in a transaction). So the chain's
 * lock is held only while that statement runs, never across a round trip to this process, and two
 * instances appending to one org no longer take turns failing each other's guesses. A batch that
 * commits is told to the file sinks once, as committed.
 */
export async function appendGuessed(sql: HotSql, rows: readonly AuditRowInput[], guesses: ChainGuesses, attempts = 3): Promise<boolean> {
  const orgIds = chainOrgs(rows);
  const hookOrgs = webhookOrgIds(rows);
  // In chainOnto's order (by org as locked, each org's rows in their given order: a stable sort), so the
  // encodings, made once, line up with the chained events every attempt sends.
  const inOrder = [...rows].sort((a, b) => (a.orgId < b.orgId ? -1 : a.orgId > b.orgId ? 1 : 0));
  const around = inOrder.map(encodingAround);
  const befores = around.map((a) => a[0]);
  const betweens = around.map((a) => a[1]);
  for (let attempt = 0; attempt < attempts; attempt++) {
    const heads = new Map(orgIds.map((o) => [o, guesses.head(o)]));
    const chained = chainOnto(inOrder, orgIds, heads, around);
    const hooks = guesses.hooksOf(hookOrgs);
    const deliveries = webhookDeliveries(hooks, chained, new Date());
    const answer = await sql.all("audit.append", RECORD, [
      orgIds.map(auditLockKey), orgIds, orgIds.map((o) => heads.get(o)?.seq ?? null), orgIds.map((o) => heads.get(o)?.hash ?? null),
      hooks.map((h) => h.id), hooks.map((h) => h.orgId), hooks.map((h) => h.events),
      ...eventColumns(chained),
      deliveries.map((d) => d.id), deliveries.map((d) => d.webhookId), deliveries.map((d) => d.eventId), deliveries.map((d) => d.eventType),
      deliveries.map((d) => d.payload), deliveries.map((d) => d.nextAttemptAt.toISOString()),
      befores, betweens,
    ]);
    const committed = answer.length === 1 && answer[0]!.kind === "ok" ? chained : answer[0]?.kind === "event" ? rechained(chained, answer) : null;
    if (committed) {
      guesses.appended(committed);
      noteAuditSinks(committed);
      return true;
    }
    guesses.found(orgIds, answer);
  }
  return false;
}

/** `chained` (as sent) with the chain fields the database gave each event instead (its answer: one 'event' row per event). */
function rechained(chained: readonly ChainedRow[], answer: readonly HotRow[]): ChainedRow[] {
  const made = new Map(answer.map((a) => [String(a.id), a]));
  return chained.map((r) => {
    const a = made.get(r.id);
    if (!a) throw new Error("The database did not chain every event of the batch");
    return chainedRow(r, Number(a.seq), String(a.prevHash), String(a.hash));
  });
}
