import { z } from "zod";

/**
 * The manifest of a Talon backup: what the snapshot holds and what it needs to be useful again. It
 * names keys by id only (master-key versions and labels, the token label) — never key material, a PIN
 * or a database password — and carries the checksum of every part, so a damaged backup is refused
 * before anything is restored from it.
 */
const hex64 = z.string().regex(/^[0-9a-f]{64}$/);

export const ZBackupPart = z.strictObject({
  name: z.string().regex(/^[a-z0-9.-]{1,64}$/),
  /** sqlite-gzip: the SQLite database file, gzip-compressed; pg-dump-custom: `pg_dump -Fc` output. */
  content: z.enum(["sqlite-gzip", "pg-dump-custom"]),
  bytes: z.number().int().min(1),
  sha256: hex64,
});

export const ZMasterKeyRef = z.strictObject({
  version: z.number().int().min(1),
  /** The key's label in the PKCS#11 token (`talon-master-v<version>`); null for the local keystore. */
  label: z.string().max(64).nullable(),
  /** Vault data keys in this backup wrapped under this version. */
  vaults: z.number().int().min(0),
});

export const ZAuditChainHead = z.strictObject({ orgId: z.string().max(64), seq: z.number().int().min(1), hash: hex64 });

export const ZBackupManifest = z.strictObject({
  format: z.literal("talon-backup"),
  formatVersion: z.literal(1),
  createdAt: z.string().max(40),
  talonVersion: z.string().max(64),
  dialect: z.enum(["sqlite", "postgres"]),
  database: z.strictObject({
    /** The newest migration applied to the backed-up database (prisma/<dialect>/migrations). */
    lastMigration: z.string().max(255).nullable(),
    migrations: z.number().int().min(0),
    /** PostgreSQL only: the server's and pg_dump's versions (pg_restore must be at least as new). */
    serverVersion: z.string().max(255).optional(),
    dumpVersion: z.string().max(255).optional(),
  }),
  keystore: z.strictObject({
    provider: z.enum(["pkcs11", "local"]),
    /** The PKCS#11 token the master keys live in (TALON_PKCS11_TOKEN_LABEL). */
    tokenLabel: z.string().max(64).nullable(),
    /** The version new vault keys were being wrapped with (KeystoreState), when recorded. */
    currentMasterKeyVersion: z.number().int().nullable(),
    /** Every master-key version a vault row of this backup needs; the keystore must hold each. */
    masterKeys: z.array(ZMasterKeyRef).max(10_000),
    /** Crypto-proxy secp256k1 keys generated in the token (their rows are in the backup, the keys are not). */
    signingKeys: z.number().int().min(0),
  }),
  /** The newest event of each org's audit hash chain at the snapshot. */
  auditChains: z.array(ZAuditChainHead).max(10_000_000),
  counts: z.strictObject({
    orgs: z.number().int().min(0),
    users: z.number().int().min(0),
    vaults: z.number().int().min(0),
    secrets: z.number().int().min(0),
    secretVersions: z.number().int().min(0),
    auditEvents: z.number().int().min(0),
  }),
  parts: z.array(ZBackupPart).min(1).max(16),
});

export type BackupManifest = z.infer<typeof ZBackupManifest>;
export type BackupPart = z.infer<typeof ZBackupPart>;
export type SnapshotFacts = Pick<BackupManifest, "auditChains" | "counts"> & {
  lastMigration: string | null;
  migrations: number;
  currentMasterKeyVersion: number | null;
  masterKeys: { version: number; vaults: number }[];
  signingKeys: number;
};

/** Runs one read-only statement on the snapshot being backed up (or the database just restored). */
export type SnapshotQuery = (sql: string) => Promise<Record<string, unknown>[]>;

const num = (v: unknown) => Number(v ?? 0);

/**
 * The facts a manifest records, read from one consistent snapshot: the SQLite backup copy itself, or
 * the PostgreSQL transaction whose snapshot pg_dump shares. Run again after a restore, they must come
 * out the same.
 */
export async function snapshotFacts(query: SnapshotQuery): Promise<SnapshotFacts> {
  const count = async (table: string) => num((await query(`SELECT COUNT(*) AS n FROM "${table}"`))[0]?.n);
  const migrations = await query(
    `SELECT migration_name AS name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY migration_name`,
  );
  const keys = await query(`SELECT "masterKeyVersion" AS v, COUNT(*) AS n FROM "Vault" GROUP BY "masterKeyVersion" ORDER BY "masterKeyVersion"`);
  const state = await query(`SELECT "masterKeyVersion" AS v FROM "KeystoreState" WHERE id = 1`);
  const heads = await query(
    `SELECT e."orgId" AS org, e.seq AS seq, e.hash AS hash FROM "AuditEvent" e
     JOIN (SELECT "orgId", MAX(seq) AS s FROM "AuditEvent" WHERE seq IS NOT NULL GROUP BY "orgId") m ON m."orgId" = e."orgId" AND m.s = e.seq
     ORDER BY e."orgId"`,
  );
  return {
    lastMigration: migrations.length ? String(migrations.at(-1)!.name) : null,
    migrations: migrations.length,
    currentMasterKeyVersion: state.length ? num(state[0]!.v) : null,
    masterKeys: keys.map((k) => ({ version: num(k.v), vaults: num(k.n) })),
    signingKeys: await count("SigningKey"),
    auditChains: heads.map((h) => ({ orgId: String(h.org), seq: num(h.seq), hash: String(h.hash) })),
    counts: {
      orgs: await count("Org"),
      users: await count("User"),
      vaults: await count("Vault"),
      secrets: await count("Secret"),
      secretVersions: await count("SecretVersion"),
      auditEvents: await count("AuditEvent"),
    },
  };
}

/** What differs between the manifest and the facts of a restored database (empty: the restore is whole). */
export function factsMismatch(manifest: BackupManifest, facts: SnapshotFacts): string[] {
  const out: string[] = [];
  if (facts.lastMigration !== manifest.database.lastMigration) out.push(`last migration ${facts.lastMigration} (manifest: ${manifest.database.lastMigration})`);
  for (const [name, n] of Object.entries(manifest.counts)) {
    const got = facts.counts[name as keyof typeof facts.counts];
    if (got !== n) out.push(`${name}: ${got} rows (manifest: ${n})`);
  }
  const heads = new Map(facts.auditChains.map((h) => [h.orgId, h]));
  for (const h of manifest.auditChains) {
    const got = heads.get(h.orgId);
    if (!got || got.seq !== h.seq || got.hash !== h.hash) out.push(`audit chain of org ${h.orgId || "(none)"} ends at ${got ? `${got.seq}` : "nothing"} (manifest: ${h.seq} ${h.hash.slice(0, 12)}…)`);
  }
  if (facts.auditChains.length !== manifest.auditChains.length) out.push(`${facts.auditChains.length} audit chains (manifest: ${manifest.auditChains.length})`);
  return out;
}
