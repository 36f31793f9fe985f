import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { startTestServer, testDialect, type TestServer } from "../helpers/server";

let server: TestServer;
let api: ReturnType<typeof client>;
let vaultId: string;

beforeAll(async () => {
  server = await startTestServer();
  api = client(server.url, (await signUpVerified(server)).token);
  vaultId = (await api.post("/v1/vaults", { name: "at-rest" })).body.id;
});
afterAll(async () => {
  await server?.close();
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

/** Every text and bytea cell of every table in the test's PostgreSQL database, as one searchable buffer. */
async function postgresCells(url: string): Promise<Buffer> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const cols = await c.query<{ table_name: string; column_name: string }>(
      `SELECT table_name, column_name FROM information_schema.columns
       WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'bytea', 'json', 'jsonb')`,
    );
    const parts: Buffer[] = [];
    for (const { table_name, column_name } of cols.rows) {
      const rows = await c.query(`SELECT "${column_name}" AS v FROM "${table_name}"`);
      for (const { v } of rows.rows) if (v != null) parts.push(Buffer.isBuffer(v) ? v : Buffer.from(typeof v === "string" ? v : JSON.stringify(v)));
    }
    return Buffer.concat(parts);
  } finally {
    await c.end();
  }
}

describe("secret values at rest", () => {
  it("never stores the plaintext: not in the database, its WAL, or any file of the data dir", async () => {
    const canary = `canary-${randomBytes(16).toString("hex")}`;
    // Metadata is stored in the clear by design: it is the positive control that the scan sees the data.
    const control = `control-${randomBytes(16).toString("hex")}`;
    const put = await api.put(`/v1/vaults/${vaultId}/secrets/planted`, { value: canary, metadata: { note: control } });
    expect(put.status).toBe(201);
    expect((await api.get(`/v1/vaults/${vaultId}/secrets/planted`)).body.value).toBe(canary);
    await server.rt.audit.drain();

    const needles = [canary, Buffer.from(canary).toString("base64"), Buffer.from(canary).toString("hex")];
    const scan = () => Buffer.concat(filesUnder(server.dataDir).map((f) => readFileSync(f)));
    const onDisk = scan();
    for (const n of needles) expect(onDisk.includes(n), n).toBe(false);

    if (testDialect === "sqlite") {
      expect(onDisk.includes(control)).toBe(true);
      // Again after moving the WAL into the main file.
      await server.rt.db.$queryRawUnsafe("PRAGMA wal_checkpoint(TRUNCATE)");
      const checkpointed = scan();
      expect(checkpointed.includes(control)).toBe(true);
      for (const n of needles) expect(checkpointed.includes(n), n).toBe(false);
    } else {
      const cells = await postgresCells(server.databaseUrl);
      expect(cells.includes(control)).toBe(true);
      for (const n of needles) expect(cells.includes(n), n).toBe(false);
    }
  });
});

describe("ciphertexts are bound to their row", () => {
  async function plant(vault: string, p: string, value: string) {
    const res = await api.put(`/v1/vaults/${vault}/secrets/${p}`, { value });
    expect(res.status).toBe(201);
    const v = await server.rt.db.secretVersion.findFirst({ where: { secretId: res.body.id, version: res.body.version } });
    return v!.id;
  }
  async function copyCiphertext(fromVersionId: string, toVersionId: string) {
    const n = await server.rt.db.$executeRaw`
      UPDATE "SecretVersion" SET ciphertext = (SELECT ciphertext FROM "SecretVersion" WHERE id = ${fromVersionId}) WHERE id = ${toVersionId}`;
    expect(n).toBe(1);
  }
  async function expectRefused(url: string, ...values: string[]) {
    const res = await api.get(url);
    expect(res.status).toBe(500);
    expect(res.body.detail).toMatch(/integrity/);
    for (const v of values) expect(res.text).not.toContain(v);
  }

  it("refuses a ciphertext copied from another secret, and the original still opens", async () => {
    const a = await plant(vaultId, "swap/a", "value-of-a-1234");
    const b = await plant(vaultId, "swap/b", "value-of-b-5678");
    await copyCiphertext(a, b);
    await expectRefused(`/v1/vaults/${vaultId}/secrets/swap/b`, "value-of-a-1234", "value-of-b-5678");
    expect((await api.get(`/v1/vaults/${vaultId}/secrets/swap/a`)).body.value).toBe("value-of-a-1234");
  });

  it("refuses a ciphertext copied from another version of the same secret", async () => {
    const v1 = await plant(vaultId, "swap/versions", "first-version-value");
    await plant(vaultId, "swap/versions", "second-version-value");
    const v2 = (await server.rt.db.secretVersion.findFirst({ where: { secret: { vaultId, path: "swap/versions" }, version: 2 } }))!.id;
    await copyCiphertext(v1, v2);
    await expectRefused(`/v1/vaults/${vaultId}/secrets/swap/versions`, "first-version-value", "second-version-value");
    expect((await api.get(`/v1/vaults/${vaultId}/secret-version/swap/versions/1`)).body.value).toBe("first-version-value");
  });

  it("refuses a ciphertext copied from another vault at the same path", async () => {
    const other = (await api.post("/v1/vaults", { name: "at-rest-2" })).body.id;
    const a = await plant(vaultId, "same/path", "vault-one-value");
    const b = await plant(other, "same/path", "vault-two-value");
    await copyCiphertext(a, b);
    await expectRefused(`/v1/vaults/${other}/secrets/same/path`, "vault-one-value", "vault-two-value");
    expect((await api.get(`/v1/vaults/${vaultId}/secrets/same/path`)).body.value).toBe("vault-one-value");
  });
});
