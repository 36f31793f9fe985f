import { spawn } from "node:child_process";
import { renameSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { breakDatabase } from "../helpers/database-outage";
import { client, type TestResponse } from "../helpers/http";
import { startTestServer, testDialect, type TestServer } from "../helpers/server";

/**
 * While the database (or the keystore) cannot be used, Talon says so: `/v1/health` answers 503, and a
 * request that needs the database answers 503 with Retry-After — never a 500 that reads like a bug.
 * The outage is real: on PostgreSQL the test database stops accepting connections and its sessions are
 * terminated; on SQLite another process holds the file locked (longer than the busy timeout). Positive
 * control on both sides: the same requests answer 200 before, and again once the outage is over.
 */
const SECRET_VALUE = "outage-canary-value-7f3a";

let server: TestServer;
let api: ReturnType<typeof client>;
let secretUrl: string;

beforeAll(async () => {
  server = await startTestServer();
  api = client(server.url, (await signUpVerified(server)).token);
  const vaultId = (await api.post("/v1/vaults", { name: "outage" })).body.id as string;
  secretUrl = `/v1/vaults/${vaultId}/secrets/db/password`;
  expect((await api.put(secretUrl, { value: SECRET_VALUE })).status).toBe(201);
});
afterAll(async () => {
  await server?.close();
});

function expectOutage(res: TestResponse, what: RegExp) {
  expect(res.status).toBe(503);
  expect(res.headers.get("content-type")).toContain("application/problem+json");
  expect(res.body).toMatchObject({ type: "about:blank", title: "Service Unavailable", status: 503 });
  expect(res.body.detail).toMatch(what);
  expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  // Nothing of the database's own error reaches the client.
  expect(res.text).not.toMatch(/prisma|sqlite|postgres|talon_t_|57P01|55000/i);
}

/** Health results are reused for a second: poll until the expected status. */
async function healthBecomes(status: number, timeoutMs = 20_000): Promise<TestResponse> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await api.get("/v1/health");
    if (res.status === status || Date.now() > deadline) return res;
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("database outage", () => {
  it("health and a secret read answer 503 with Retry-After while the database is gone, 200 before and after", async () => {
    expect((await api.get("/v1/health")).status).toBe(200);
    const before = await api.get(secretUrl);
    expect(before.status).toBe(200);
    expect(before.body.value).toBe(SECRET_VALUE);

    const restore = await breakDatabase(server);
    try {
      expectOutage(await healthBecomes(503), /database/i);
      expectOutage(await api.get(secretUrl), /database is unavailable/);
      expectOutage(await api.put(secretUrl, { value: "written-during-outage" }), /database is unavailable/);
    } finally {
      await restore();
    }

    expect((await healthBecomes(200)).status).toBe(200);
    const after = await api.get(secretUrl);
    expect(after.status).toBe(200);
    // The write refused during the outage changed nothing.
    expect(after.body.value).toBe(SECRET_VALUE);
  });
});

/** Holds SQLite's write lock on the file named in argv (BEGIN IMMEDIATE) until stdin closes. */
const WRITE_LOCK_HOLDER = `
const db = new (require("better-sqlite3"))(process.argv[1], { timeout: 30000 });
db.exec("BEGIN IMMEDIATE");
process.stdout.write("locked\\n");
process.stdin.resume();
process.stdin.on("end", () => { db.exec("ROLLBACK"); db.close(); process.exit(0); });
`;

describe.runIf(testDialect === "sqlite")("SQLite locked by another process", () => {
  it("a request that must write waits out the busy timeout and answers 503 with Retry-After; once the lock is gone it succeeds", async () => {
    // A child process: the lock must not be held on this event loop, which is also the server's.
    const holder = spawn(process.execPath, ["-e", WRITE_LOCK_HOLDER, path.join(server.dataDir, "talon.db")], { stdio: ["pipe", "pipe", "inherit"] });
    const exited = new Promise((r) => holder.once("exit", r));
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout.once("data", () => resolve());
        holder.once("exit", (code) => reject(new Error(`lock holder exited with ${code}`)));
      });
      expectOutage(await api.put(secretUrl, { value: "written-while-locked" }), /database is unavailable/);
      // A secret read records its audit event before it answers: it cannot either.
      expectOutage(await api.get(secretUrl), /database is unavailable/);
      // Reading alone still works beside the lock (WAL): the instance is up, its writes are stuck.
      expect((await healthBecomes(200)).status).toBe(200);
    } finally {
      holder.stdin.end();
      await exited;
    }
    expect((await api.put(secretUrl, { value: "written-after-the-lock" })).status).toBe(201);
    expect((await api.get(secretUrl)).body.value).toBe("written-after-the-lock");
  });
});

describe("keystore outage", () => {
  let local: TestServer;
  beforeAll(async () => {
    local = await startTestServer({ env: { TALON_KEYSTORE: "local" } });
  });
  afterAll(async () => {
    await local?.close();
  });

  it("health answers 503 while the keystore cannot be used (its key file gone), 200 before and after", async () => {
    const health = () => client(local.url).get("/v1/health");
    expect((await health()).status).toBe(200);
    const keyFile = path.join(local.dataDir, "local-keystore.key");
    renameSync(keyFile, `${keyFile}.away`);
    try {
      let res = await health();
      for (const deadline = Date.now() + 5_000; res.status !== 503 && Date.now() < deadline; res = await health()) await new Promise((r) => setTimeout(r, 250));
      expectOutage(res, /keystore/);
    } finally {
      renameSync(`${keyFile}.away`, keyFile);
    }
    let res = await health();
    for (const deadline = Date.now() + 5_000; res.status !== 200 && Date.now() < deadline; res = await health()) await new Promise((r) => setTimeout(r, 250));
    expect(res.status).toBe(200);
  });
});
