import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hotSql } from "../../server/db/hot";
import { startTestServer, testDialect, type TestServer } from "../helpers/server";

/**
 * The hot path's SQLite rows are built from the driver's arrays by a literal of the statement's column
 * names (server/db/hot.ts rowBuilder): the same objects better-sqlite3 would have made, whatever the
 * names hold, on the reader, the idle writer and inside a transaction.
 */
describe.skipIf(testDialect !== "sqlite")("hot-path rows on SQLite", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  const ODD = `SELECT 1 AS "a", 'x' AS "b c", NULL AS "n", x'00ff' AS "blob", 2 AS "a", 3 AS "q""uote\\", 4 AS "}); throw 1; ({"`;
  const expected = { a: 2, "b c": "x", n: null, blob: Buffer.from([0, 255]), 'q"uote\\': 3, "}); throw 1; ({": 4 };

  it("keeps every name as a string key (a later duplicate wins), every value as the driver reads it", async () => {
    const sql = hotSql(server.rt.db);
    const rows = await sql.all("test.oddNames", ODD, []);
    expect(rows).toEqual([expected]);
    expect(Object.keys(rows[0]!)).toEqual(["a", "b c", "n", "blob", 'q"uote\\', "}); throw 1; ({"]);
    expect(Object.getPrototypeOf(rows[0])).toBe(Object.prototype);
    expect(await sql.get("test.oddNames", ODD, [])).toEqual(expected);
    expect(await sql.all("test.none", `SELECT 1 AS "a" WHERE 0`, [])).toEqual([]);
    const inTx = await sql.transaction("test.tx", async (tx) => tx.all("test.oddNames", ODD, []));
    expect(inTx).toEqual([expected]);
  });

  it("gives each row its own object, with parameters bound in $n order", async () => {
    const rows = await hotSql(server.rt.db).all("test.params", `SELECT $2 AS "second", $1 AS "first" UNION ALL SELECT $1, $2`, ["one", "two"]);
    expect(rows).toEqual([{ second: "two", first: "one" }, { second: "one", first: "two" }]);
    expect(rows[0]).not.toBe(rows[1]);
  });

  it("refuses a column named __proto__, which a literal would make the prototype", async () => {
    await expect(hotSql(server.rt.db).all("test.proto", `SELECT 1 AS "__proto__"`, [])).rejects.toThrow(/may not name a column __proto__/);
    expect(({} as Record<string, unknown>).constructor).toBe(Object);
  });
});
