import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Ctx } from "../../server/http/principal";
import { ApiError } from "../../server/http/errors";
import { restoreSecretVersion } from "../../server/secrets/service";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";

let server: TestServer;
let api: ReturnType<typeof client>;
let owner: Ctx;
let stranger: Ctx;
let vaultId: string;
const s = (path: string) => `/v1/vaults/${vaultId}/secrets/${path}`;

/** The dashboard's context for a signed-in owner (what its server actions hand the service). */
const ownerCtx = (a: { userId: string; orgId: string }): Ctx => ({
  rt: server.rt,
  principal: { kind: "user", userId: a.userId, orgId: a.orgId, role: "owner", via: "session", credentialId: randomUUID() },
  requestId: randomUUID(),
  ip: "127.0.0.1",
});

async function statusOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (e) {
    if (e instanceof ApiError) return e.status;
    throw e;
  }
}

beforeAll(async () => {
  server = await startTestServer();
  const a = await signUpVerified(server);
  api = client(server.url, a.token);
  owner = ownerCtx(a);
  stranger = ownerCtx(await signUpVerified(server));
  vaultId = (await api.post("/v1/vaults", { name: "restore-test" })).body.id;
});
afterAll(async () => {
  await server?.close();
});

describe("restore a secret version as a new version", () => {
  it("stores the old value, type and metadata as version n+1, with an audited read of the old one", async () => {
    await api.put(s("db/password"), { value: "first-value", type: "password", metadata: { owner: "db" }, max_access_count: 5 });
    await api.put(s("db/password"), { value: "second-value", type: "generic" });

    const restored = await restoreSecretVersion(owner, { vaultId, path: "db/password", version: 1 });
    expect(restored).toMatchObject({ path: "db/password", version: 3, type: "password", metadata: { owner: "db" }, expires_at: null, max_access_count: 0 });

    const current = await api.get(s("db/password"));
    expect(current.body).toMatchObject({ value: "first-value", version: 3, type: "password", metadata: { owner: "db" } });
    // The old version's read was counted like any read.
    expect((await api.get(`/v1/vaults/${vaultId}/secret-version/db/password/1`)).body.access_count).toBe(2);

    const events = await server.rt.db.auditEvent.findMany({ where: { resourceId: restored.id }, orderBy: { seq: "asc" } });
    const trail = events.map((e) => `${e.action}:${(JSON.parse(e.details) as { version: number }).version}`);
    expect(trail).toEqual(["secret.write:1", "secret.write:2", "secret.read:1", "secret.write:3", "secret.read:3", "secret.read:1"]);
    for (const e of events) expect(e.details).not.toContain("first-value");
  });

  it("refuses a version a read refuses (disabled → 410) and writes nothing", async () => {
    await api.put(s("api/key"), { value: "k1" });
    await api.put(s("api/key"), { value: "k2" });
    expect((await api.post(`/v1/vaults/${vaultId}/secret-version-disable/api/key/1`, {})).status).toBeLessThan(300);
    expect(await statusOf(restoreSecretVersion(owner, { vaultId, path: "api/key", version: 1 }))).toBe(410);
    expect(await statusOf(restoreSecretVersion(owner, { vaultId, path: "api/key", version: 9 }))).toBe(404);
    expect((await api.get(s("api/key"))).body).toMatchObject({ value: "k2", version: 2 });
  });

  it("is 404 for another organisation's owner, who gains no read and writes nothing; the vault's owner can", async () => {
    await api.put(s("other/org"), { value: "mine", max_access_count: 3 });
    expect(await statusOf(restoreSecretVersion(stranger, { vaultId, path: "other/org", version: 1 }))).toBe(404);
    const after = await api.get(s("other/org"));
    expect(after.body).toMatchObject({ version: 1, access_count: 1 });
    // Positive control: the same call as the vault's owner succeeds.
    expect((await restoreSecretVersion(owner, { vaultId, path: "other/org", version: 1 })).version).toBe(2);
  });
});
