import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { addAgent, addOrgUser, NO_RATE_LIMITS } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * "Recently deleted" (issue 11 item 10): GET /v1/vaults/{id}/deleted-secrets lists what a delete left
 * restorable for 7 days, POST /v1/vaults/{id}/secret-restore/{path} brings it back with its versions,
 * under the write rule; another org's vault is 404, a reader without write is 403, an old delete 410.
 */
let server: TestServer;
let owner: Awaited<ReturnType<typeof signUpVerified>>;
let api: ReturnType<typeof client>;
let vaultId: string;
const s = (p: string) => `/v1/vaults/${vaultId}/secrets/${p}`;
const restore = (p: string) => `/v1/vaults/${vaultId}/secret-restore/${p}`;
const deleted = () => `/v1/vaults/${vaultId}/deleted-secrets`;

beforeAll(async () => {
  server = await startTestServer({ env: NO_RATE_LIMITS });
  owner = await signUpVerified(server);
  api = client(server.url, owner.token);
  vaultId = (await api.post("/v1/vaults", { name: "deleted-test" })).body.id;
});
afterAll(async () => {
  await server?.close();
});

describe("recently deleted secrets", () => {
  it("lists a deleted secret and restores it with every version, audited, without reviving its shares", async () => {
    await api.put(s("db/password"), { value: "v1-canary-aa11", type: "password" });
    const second = await api.put(s("db/password"), { value: "v2-canary-bb22", type: "password" });
    const share = await api.post(`/v1/secrets/${second.body.id}/share`, { recipient_type: "anyone_with_link", expires_at: new Date(Date.now() + 3600_000).toISOString() });
    expect(share.status).toBe(201);
    expect((await api.get(deleted())).body.secrets).toEqual([]);

    expect((await api.delete(s("db/password"))).status).toBe(204);
    expect((await api.get(s("db/password"))).status).toBe(410);
    const listed = await api.get(deleted());
    expect(listed.status).toBe(200);
    expect(listed.body.secrets).toEqual([
      expect.objectContaining({ id: second.body.id, path: "db/password", type: "password", version: 2 }),
    ]);
    const until = Date.parse(listed.body.secrets[0].restorable_until) - Date.parse(listed.body.secrets[0].deleted_at);
    expect(until).toBe(7 * 24 * 3600 * 1000);
    expect(listed.text).not.toContain("canary");

    const restored = await api.post(restore("db/password"));
    expect(restored.status).toBe(200);
    expect(restored.body).toEqual({ id: second.body.id, path: "db/password", type: "password", version: 2 });
    expect((await api.get(s("db/password"))).body).toMatchObject({ value: "v2-canary-bb22", version: 2 });
    expect((await api.get(`/v1/vaults/${vaultId}/secret-version/db/password/1`)).body.value).toBe("v1-canary-aa11");
    expect((await api.get(deleted())).body.secrets).toEqual([]);
    // The share the delete ended stays ended.
    expect((await client(server.url).get(`/v1/share/${share.body.id}`)).status).toBe(410);

    const events = await server.rt.db.auditEvent.findMany({ where: { resourceId: second.body.id, action: "secret.restore" } });
    expect(events).toHaveLength(1);
    expect(JSON.parse(events[0]!.details)).toEqual({ vault_id: vaultId, path: "db/password", version: 2 });
    // A second restore has nothing to undo.
    expect((await api.post(restore("db/password"))).status).toBe(409);
  });

  it("refuses a live secret (409), an unknown path (404) and a delete older than 7 days (410)", async () => {
    await api.put(s("live/one"), { value: "x" });
    expect((await api.post(restore("live/one"))).status).toBe(409);
    expect((await api.post(restore("never/was"))).status).toBe(404);

    await api.put(s("old/one"), { value: "x" });
    expect((await api.delete(s("old/one"))).status).toBe(204);
    await server.rt.db.secret.updateMany({ where: { vaultId, path: "old/one" }, data: { deletedAt: new Date(Date.now() - 8 * 24 * 3600 * 1000) } });
    const old = await api.post(restore("old/one"));
    expect(old.status).toBe(410);
    expect(old.body.detail).toContain("7 days");
    expect((await api.get(deleted())).body.secrets.map((x: { path: string }) => x.path)).not.toContain("old/one");
    // Positive control: a fresh delete of another path is restorable.
    await api.put(s("old/two"), { value: "x" });
    await api.delete(s("old/two"));
    expect((await api.post(restore("old/two"))).status).toBe(200);
  });

  it("needs write access to the path: a reader gets 403, a writer restores; another org's owner gets 404", async () => {
    await api.put(s("team/key"), { value: "team-canary-cc33" });
    await api.delete(s("team/key"));
    const member = await addOrgUser(server, owner.orgId, "member");
    const reader = await addAgent(server, owner.token);
    for (const [type, id, permissions] of [
      ["user", member.userId, ["read"]],
      ["agent", reader.agentId, ["read"]],
    ] as const) {
      expect((await api.post(`/v1/vaults/${vaultId}/policies`, { principal_type: type, principal_id: id, secret_path_pattern: "team/**", permissions })).status).toBe(201);
    }
    // Readers see it in the list but cannot restore it.
    expect((await member.api.get(deleted())).body.secrets.map((x: { path: string }) => x.path)).toEqual(["team/key"]);
    expect((await member.api.post(restore("team/key"))).status).toBe(403);
    expect((await reader.api.post(restore("team/key"))).status).toBe(403);
    // Someone with no policy on the vault at all cannot list it.
    const outsider = await addOrgUser(server, owner.orgId, "member");
    expect((await outsider.api.get(deleted())).status).toBe(403);

    const stranger = await signUpVerified(server);
    const strangerApi = client(server.url, stranger.token);
    expect((await strangerApi.get(deleted())).status).toBe(404);
    expect((await strangerApi.post(restore("team/key"))).status).toBe(404);
    expect((await api.get(s("team/key"))).status).toBe(410);

    // Positive control: a writer on the path restores it.
    const writer = await addAgent(server, owner.token);
    await api.post(`/v1/vaults/${vaultId}/policies`, { principal_type: "agent", principal_id: writer.agentId, secret_path_pattern: "team/*", permissions: ["read", "write"] });
    expect((await writer.api.post(restore("team/key"))).status).toBe(200);
    expect((await api.get(s("team/key"))).body.value).toBe("team-canary-cc33");
  });

  it("concurrent restores of one secret: exactly one wins, the rest get 409", async () => {
    await api.put(s("race/one"), { value: "x" });
    await api.delete(s("race/one"));
    const results = await Promise.all(Array.from({ length: 6 }, () => api.post(restore("race/one"))));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((x) => x === 200)).toHaveLength(1);
    expect(statuses.filter((x) => x === 409)).toHaveLength(5);
    const events = await server.rt.db.auditEvent.count({ where: { action: "secret.restore", details: { contains: "race/one" } } });
    expect(events).toBe(1);
  });

  it("validates the path like every secret route (400 naming it)", async () => {
    const r = await api.post(`/v1/vaults/${vaultId}/secret-restore/a/../b`);
    expect([400, 404]).toContain(r.status);
    const bad = await api.post(`/v1/vaults/${vaultId}/secret-restore/bad%20path`);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.fields)).toContain("path");
  });
});
