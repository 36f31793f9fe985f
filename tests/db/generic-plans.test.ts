import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { READ_MANY, WRITE_VERSIONS_ONLY } from "../../server/secrets/repo";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { startTestServer, testDialect, type TestServer } from "../helpers/server";

/**
 * PostgreSQL plans a prepared statement with array parameters anew on every execution unless its generic
 * plan looks as cheap as a custom one (docs/perf/README.md: planning cost more than the read itself).
 * The batched secret read is written so that it keeps its generic plan, and the audit chain's functions
 * carry `plan_cache_mode = force_generic_plan` for their own statements only.
 */
describe.skipIf(testDialect !== "postgres")("PostgreSQL hot path statements keep their generic plans", () => {
  let server: TestServer;
  let db: pg.Client;
  let orgId: string;
  let vaultId: string;

  beforeAll(async () => {
    server = await startTestServer();
    const owner = await signUpVerified(server);
    orgId = owner.orgId;
    const api = client(server.url, owner.token);
    vaultId = (await api.post("/v1/vaults", { name: "plans" })).body.id as string;
    for (const p of ["a", "b", "c"]) expect((await api.put(`/v1/vaults/${vaultId}/secrets/${p}`, { value: `v-${p}` })).status).toBe(201);
    db = new pg.Client({ connectionString: server.databaseUrl });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await server?.close();
  });

  it("the batched secret read is planned a handful of times, then runs its generic plan, whatever the batch's size", async () => {
    const read = (paths: string[]) =>
      db.query({ name: "readMany", text: READ_MANY, values: [paths.map(() => orgId), paths.map(() => vaultId), paths, paths.map(() => null)] });
    for (let i = 0; i < 12; i++) {
      const paths = ["a", "b", "c"].slice(0, 1 + (i % 3));
      const { rows } = await read(paths);
      expect(rows.map((r) => [Number(r.n), r.secretId !== null, Number(r.version)])).toEqual(paths.map((_, j) => [j + 1, true, 1]));
    }
    const { rows } = await db.query(`SELECT generic_plans::int AS generic, custom_plans::int AS custom FROM pg_prepared_statements WHERE name = 'readMany'`);
    // PostgreSQL tries five custom plans before it compares; with the arrays' length in the estimate it never switched.
    expect(rows[0]).toEqual({ generic: 7, custom: 5 });
  });

  // Measured: as written, with three tables in one statement, the write batch's plan is already generic.
  // This keeps it so.
  it("the write batch's statement keeps its generic plan too, whatever the batch's size", async () => {
    const at = new Date().toISOString();
    const none = (k: number) => Array.from({ length: k }, () => null);
    await db.query("BEGIN");
    try {
      // Each round creates one to three secrets and moves the previous round's to their version 2.
      let previous: string[] = [];
      for (let i = 0; i < 8; i++) {
        const ids = Array.from({ length: 1 + (i % 3) }, (_, j) => `plan-${i}-${j}`);
        const versions = [...ids.map((id) => [id, 1] as const), ...previous.map((id) => [id, 2] as const)];
        const { rows } = await db.query({
          name: "writeVersions",
          text: WRITE_VERSIONS_ONLY,
          values: [
            ids, ids.map(() => vaultId), ids.map((id) => `plans/${id}`), ids.map(() => 1), none(ids.length), none(ids.length), ids.map(() => at),
            previous, previous.map(() => 2), none(previous.length), none(previous.length), previous.map(() => at),
            versions.map(([id, v]) => `${id}-v${v}`), versions.map(([id]) => id), versions.map(([, v]) => v), versions.map(() => "password"),
            versions.map(() => Buffer.from("sealed")), versions.map(() => "{}"), none(versions.length), versions.map(() => 0),
            none(versions.length), versions.map(() => "test"), versions.map(() => at),
          ],
        });
        expect(rows).toEqual([{ updated: previous.length }]);
        previous = ids;
      }
      const { rows } = await db.query(`SELECT count(*)::int AS n FROM "SecretVersion" WHERE "secretId" LIKE 'plan-%' AND version = 2`);
      expect(rows[0].n).toBe(1 + 2 + 3 + 1 + 2 + 3 + 1);
    } finally {
      await db.query("ROLLBACK");
    }
    const { rows } = await db.query(`SELECT generic_plans::int AS generic, custom_plans::int AS custom FROM pg_prepared_statements WHERE name = 'writeVersions'`);
    expect(rows[0]).toEqual({ generic: 3, custom: 5 });
  });

  it("the audit chain's functions run with generic plans, set on the functions alone", async () => {
    const { rows } = await db.query(`SELECT proname, proconfig FROM pg_proc WHERE proname LIKE 'talon\\_%' ORDER BY proname`);
    const config = Object.fromEntries(rows.map((r) => [r.proname, r.proconfig]));
    for (const f of ["talon_audit_append", "talon_audit_chain", "talon_audit_lock_heads", "talon_audit_record"]) expect(config[f]).toEqual(["plan_cache_mode=force_generic_plan"]);
    // Its generic plan would hash-join a scan of the secrets while the table is small: left to choose.
    expect(config.talon_secret_lock_heads).toBeNull();
    // The connections themselves keep PostgreSQL's default, for Prisma's statements.
    expect((await db.query("SHOW plan_cache_mode")).rows[0].plan_cache_mode).toBe("auto");
  });
});
