import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hotSql } from "../../server/db/hot";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * `runEach` (server/db/hot.ts): one write statement run once per parameter list, in order — the SQLite
 * audit batch's inserts as one call, one promise — inside a transaction or on its own. On both
 * databases: every row written and counted, and a failing list rolls back the whole transaction with
 * the lists before it.
 */
describe("hot-path runEach", () => {
  let server: TestServer;
  const INSERT = `INSERT INTO "TestRunEach" (k, n) VALUES ($1, $2)`;

  beforeAll(async () => {
    server = await startTestServer();
    await hotSql(server.rt.db).run("test.create", `CREATE TABLE "TestRunEach" (k TEXT PRIMARY KEY, n INTEGER NOT NULL)`, []);
  });
  afterAll(async () => {
    await server?.close();
  });

  const rows = async (prefix: string) =>
    (await hotSql(server.rt.db).all("test.rows", `SELECT k AS "k", n AS "n" FROM "TestRunEach" WHERE k LIKE $1 ORDER BY n`, [`${prefix}%`])).map((r) => ({
      k: String(r.k),
      n: Number(r.n),
    }));

  it("writes every list in a transaction and outside one, and answers the rows changed by all", async () => {
    const sql = hotSql(server.rt.db);
    const changed = await sql.transaction("test.tx", (tx) => tx.runEach("test.insert", INSERT, [["a1", 1], ["a2", 2], ["a3", 3]]));
    expect(changed).toBe(3);
    expect(await rows("a")).toEqual([{ k: "a1", n: 1 }, { k: "a2", n: 2 }, { k: "a3", n: 3 }]);
    expect(await sql.runEach("test.insert", INSERT, [["b1", 1], ["b2", 2]])).toBe(2);
    expect(await sql.runEach("test.insert", INSERT, [])).toBe(0);
    expect(await sql.runEach("test.bump", `UPDATE "TestRunEach" SET n = n + 10 WHERE k LIKE $1`, [["a%"], ["b1"]])).toBe(4);
    expect(await rows("b")).toEqual([{ k: "b2", n: 2 }, { k: "b1", n: 11 }]);
  });

  it("a list that fails rolls the transaction back, the lists before it included", async () => {
    const sql = hotSql(server.rt.db);
    const failed = sql.transaction("test.tx", async (tx) => {
      await tx.run("test.insert", INSERT, ["c0", 0]);
      return tx.runEach("test.insert", INSERT, [["c1", 1], ["c1", 2], ["c3", 3]]);
    });
    await expect(failed).rejects.toThrow();
    expect(await rows("c")).toEqual([]);
    // The connection is usable afterwards.
    expect(await sql.transaction("test.tx", (tx) => tx.runEach("test.insert", INSERT, [["c9", 9]]))).toBe(1);
    expect(await rows("c")).toEqual([{ k: "c9", n: 9 }]);
  });
});
