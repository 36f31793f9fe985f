import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { addAgent, addOrgUser } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";

let server: TestServer;
let owner: Awaited<ReturnType<typeof signUpVerified>>;
let api: ReturnType<typeof client>;
let anon: ReturnType<typeof client>;
let vaultId: string;
let secretId: string;

const inDays = (d: number) => new Date(Date.now() + d * 86_400_000).toISOString();

async function share(as: ReturnType<typeof client>, body: Record<string, unknown>, id = secretId) {
  const res = await as.post(`/v1/secrets/${id}/share`, { expires_at: inDays(1), ...body });
  if (res.status !== 201) throw new Error(`share failed: ${res.status} ${res.text}`);
  return res.body as { id: string; share_url: string };
}

beforeAll(async () => {
  server = await startTestServer();
  owner = await signUpVerified(server);
  await server.rt.db.org.update({ where: { id: owner.orgId }, data: { tier: "enterprise" } });
  api = client(server.url, owner.token);
  anon = client(server.url);
  vaultId = (await api.post("/v1/vaults", { name: "shared" })).body.id;
  secretId = (await api.put(`/v1/vaults/${vaultId}/secrets/db/password`, { value: "first-value", type: "password" })).body.id;
});
afterAll(async () => {
  await server?.close();
});
// This suite creates more than 10 shares a minute in one org; the limit itself is tests/race/share-access-count.test.ts's subject.
beforeEach(async () => {
  await server.rt.db.rateCounter.deleteMany({ where: { key: { startsWith: "share-create:" } } });
});

describe("link shares", () => {
  it("creates a follow-latest link share and serves the latest version publicly, counting reads until 410", async () => {
    const created = await api.post(`/v1/secrets/${secretId}/share`, { recipient_type: "anyone_with_link", expires_at: inDays(2), max_access_count: 2, follow_latest: true });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ recipient_type: "anyone_with_link", recipient_id: null, max_access_count: 2, version: null, follow_latest: true });
    expect(created.body.share_url).toBe(`${server.rt.config.publicUrl}/s/${created.body.id}`);

    await api.put(`/v1/vaults/${vaultId}/secrets/db/password`, { value: "second-value", type: "password" });
    const first = await anon.get(`/v1/share/${created.body.id}`);
    expect(first.status).toBe(200);
    expect(first.headers.get("cache-control")).toBe("no-store");
    expect(first.body).toMatchObject({ id: created.body.id, path: "db/password", type: "password", value: "second-value", version: 2, access_count: 1, max_access_count: 2 });
    expect((await anon.get(`/v1/share/${created.body.id}`)).body.access_count).toBe(2);
    const third = await anon.get(`/v1/share/${created.body.id}`);
    expect(third.status).toBe(410);
    expect(third.text).not.toContain("second-value");

    const events = await server.rt.db.auditEvent.findMany({ where: { action: "share.access", resourceId: created.body.id } });
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({ actorId: "anonymous", actorType: "anonymous", orgId: owner.orgId, ipAddress: "127.0.0.1" });
  });

  it("defaults max_access_count to 5 and accepts 0 as unlimited", async () => {
    const def = await api.post(`/v1/secrets/${secretId}/share`, { recipient_type: "anyone_with_link", expires_at: inDays(1) });
    expect(def.body.max_access_count).toBe(5);
    const unlimited = await share(api, { recipient_type: "anyone_with_link", max_access_count: 0 });
    for (let i = 0; i < 7; i++) expect((await anon.get(`/v1/share/${unlimited.id}`)).status).toBe(200);
  });

  it("asks for the passphrase: missing 401, wrong 403, right 200", async () => {
    const s = await share(api, { recipient_type: "anyone_with_link", passphrase: "open sesame 123" });
    expect((await anon.get(`/v1/share/${s.id}`)).status).toBe(401);
    const wrong = await anon.get(`/v1/share/${s.id}`, { "X-Share-Passphrase": "open sesame 124" });
    expect(wrong.status).toBe(403);
    expect(wrong.text).not.toContain("second-value");
    const right = await anon.get(`/v1/share/${s.id}`, { "X-Share-Passphrase": "open sesame 123" });
    expect(right.status).toBe(200);
    expect(right.body.value).toBe("second-value");
    const stored = await server.rt.db.share.findUnique({ where: { id: s.id } });
    expect(stored!.passphraseHash).toMatch(/^\$argon2id\$/);
  });

  it("answers 410 once expired and 404 for an unknown id", async () => {
    const s = await share(api, { recipient_type: "anyone_with_link" });
    await server.rt.db.share.update({ where: { id: s.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await anon.get(`/v1/share/${s.id}`)).status).toBe(410);
    expect((await anon.get(`/v1/share/${crypto.randomUUID()}`)).status).toBe(404);
    expect((await anon.get(`/v1/share/not-a-uuid`)).status).toBe(400);
  });

  it("link shares cannot be accepted or declined", async () => {
    const s = await share(api, { recipient_type: "anyone_with_link" });
    expect((await api.post(`/v1/shares/${s.id}/accept`)).status).toBe(400);
    expect((await api.post(`/v1/shares/${s.id}/decline`)).status).toBe(400);
  });
});

describe("creating shares: validation and access", () => {
  it("refuses email recipients, missing or stray recipient ids, and bad expiry with 400 naming the field", async () => {
    const email = await api.post(`/v1/secrets/${secretId}/share`, { recipient_type: "user", email: "x@example.test", expires_at: inDays(1) });
    expect(email.status).toBe(400);
    expect(email.body.fields[0].field).toBe("email");
    expect((await api.post(`/v1/secrets/${secretId}/share`, { recipient_type: "user", expires_at: inDays(1) })).body.fields[0].field).toBe("recipient_id");
    const stray = await api.post(`/v1/secrets/${secretId}/share`, { recipient_type: "anyone_with_link", recipient_id: owner.userId, expires_at: inDays(1) });
    expect(stray.status).toBe(400);
    expect((await api.post(`/v1/secrets/${secretId}/share`, { recipient_type: "anyone_with_link" })).body.fields[0].field).toBe("expires_at");
    const past = await api.post(`/v1/secrets/${secretId}/share`, { recipient_type: "anyone_with_link", expires_at: inDays(-1) });
    expect(past.status).toBe(400);
    expect(past.body.fields[0].field).toBe("expires_at");
    expect((await api.post(`/v1/secrets/${secretId}/share`, { recipient_type: "anyone_with_link", expires_at: inDays(91) })).status).toBe(400);
    expect((await api.post(`/v1/secrets/${secretId}/share`, { recipient_type: "anyone_with_link", expires_at: inDays(1), max_access_count: 10_001 })).status).toBe(400);
    expect((await api.post(`/v1/secrets/${secretId}/share`, { recipient_type: "anyone_with_link", expires_at: inDays(1), passphrase: "short" })).status).toBe(400);
  });

  it("a human cannot use recipient_type creator", async () => {
    const res = await api.post(`/v1/secrets/${secretId}/share`, { recipient_type: "creator", expires_at: inDays(1) });
    expect(res.status).toBe(400);
    expect(res.body.detail).toContain("creator");
  });

  it("refuses an unknown recipient (users of other orgs are tests/api/compat-shares.test.ts's), and another org's secret is 404", async () => {
    const stranger = await signUpVerified(server);
    const res = await api.post(`/v1/secrets/${secretId}/share`, { recipient_type: "user", recipient_id: crypto.randomUUID(), expires_at: inDays(1) });
    expect(res.status).toBe(400);
    expect(res.body.fields[0].field).toBe("recipient_id");
    const theirs = client(server.url, stranger.token);
    const out = await theirs.post(`/v1/secrets/${secretId}/share`, { recipient_type: "anyone_with_link", expires_at: inDays(1) });
    expect(out.status).toBe(404);
    expect((await theirs.post(`/v1/secrets/${crypto.randomUUID()}/share`, { recipient_type: "anyone_with_link", expires_at: inDays(1) })).status).toBe(404);
  });

  it("needs the sharer's own read access to the path (403), positive control with a policy", async () => {
    const member = await addOrgUser(server, owner.orgId, "member");
    const denied = await member.api.post(`/v1/secrets/${secretId}/share`, { recipient_type: "anyone_with_link", expires_at: inDays(1) });
    expect(denied.status).toBe(403);
    const grant = await api.post(`/v1/vaults/${vaultId}/policies`, { secret_path_pattern: "db/*", principal_type: "user", principal_id: member.userId, permissions: ["read"] });
    expect(grant.status).toBe(201);
    expect((await member.api.post(`/v1/secrets/${secretId}/share`, { recipient_type: "anyone_with_link", expires_at: inDays(1) })).status).toBe(201);
  });
});

describe("targeted shares", () => {
  it("a user share needs the recipient's token and a prior accept", async () => {
    const member = await addOrgUser(server, owner.orgId, "member");
    const other = await addOrgUser(server, owner.orgId, "member");
    const s = await share(api, { recipient_type: "user", recipient_id: member.userId });
    expect((await anon.get(`/v1/share/${s.id}`)).status).toBe(401);
    const early = await member.api.get(`/v1/share/${s.id}`);
    expect(early.status).toBe(403);
    expect(early.body.detail).toContain("accept");
    expect((await other.api.post(`/v1/shares/${s.id}/accept`)).status).toBe(404);
    expect((await member.api.post(`/v1/shares/${s.id}/accept`)).status).toBe(204);
    expect((await other.api.get(`/v1/share/${s.id}`)).status).toBe(403);
    const read = await member.api.get(`/v1/share/${s.id}`);
    expect(read.status).toBe(200);
    expect(read.body.value).toBe("second-value");
    const ev = await server.rt.db.auditEvent.findFirst({ where: { action: "share.access", resourceId: s.id } });
    expect(ev!.actorId).toBe(`user:${member.userId}`);

    const inbound = await member.api.get("/v1/shares/inbound");
    expect(inbound.status).toBe(200);
    expect(inbound.body.shares).toEqual([
      expect.objectContaining({ id: s.id, secret_path: "db/password", recipient_type: "user", recipient_id: member.userId, access_count: 1, max_access_count: 5, is_expired: false, is_accepted: true }),
    ]);
    const outbound = await api.get("/v1/shares/outbound");
    expect(outbound.body.shares.map((x: { id: string }) => x.id)).toContain(s.id);
    expect((await other.api.get("/v1/shares/outbound")).body.shares).toEqual([]);
  });

  it("decline hides the share from inbound and blocks reads", async () => {
    const member = await addOrgUser(server, owner.orgId, "member");
    const s = await share(api, { recipient_type: "user", recipient_id: member.userId });
    expect((await member.api.get("/v1/shares/inbound")).body.shares).toHaveLength(1);
    expect((await member.api.post(`/v1/shares/${s.id}/decline`)).status).toBe(204);
    expect((await member.api.get("/v1/shares/inbound")).body.shares).toHaveLength(0);
    expect((await member.api.get(`/v1/share/${s.id}`)).status).toBe(410);
    expect(await server.rt.db.auditEvent.count({ where: { action: "share.decline", resourceId: s.id } })).toBe(1);
  });

  it("an agent shares with its creator; an agent recipient reads after accepting", async () => {
    const agent = await addAgent(server, owner.token);
    const agentVault = (await agent.api.post("/v1/vaults", { name: "agent-vault" })).body.id;
    const agentSecret = (await agent.api.put(`/v1/vaults/${agentVault}/secrets/api/token`, { value: "agent-made" })).body.id;
    const c = await agent.api.post(`/v1/secrets/${agentSecret}/share`, { recipient_type: "creator", expires_at: inDays(1) });
    expect(c.status).toBe(201);
    expect(c.body).toMatchObject({ recipient_type: "creator", recipient_id: owner.userId });
    const inbound = await api.get("/v1/shares/inbound");
    expect(inbound.body.shares.map((x: { id: string }) => x.id)).toContain(c.body.id);
    expect((await api.post(`/v1/shares/${c.body.id}/accept`)).status).toBe(204);
    expect((await api.get(`/v1/share/${c.body.id}`)).body.value).toBe("agent-made");

    const reader = await addAgent(server, owner.token);
    const toAgent = await share(api, { recipient_type: "agent", recipient_id: reader.agentId });
    expect((await reader.api.get(`/v1/share/${toAgent.id}`)).status).toBe(403);
    expect((await reader.api.post(`/v1/shares/${toAgent.id}/accept`)).status).toBe(204);
    expect((await reader.api.get(`/v1/share/${toAgent.id}`)).body.value).toBe("second-value");
    expect((await reader.api.get("/v1/shares/inbound")).body.shares[0].id).toBe(toAgent.id);
  });
});

describe("revoking", () => {
  it("only the creator revokes (others 404); then it is 404 for everyone at once", async () => {
    const member = await addOrgUser(server, owner.orgId, "member");
    const s = await share(api, { recipient_type: "anyone_with_link" });
    expect((await anon.get(`/v1/share/${s.id}`)).status).toBe(200);
    expect((await member.api.delete(`/v1/share/${s.id}`)).status).toBe(404);
    expect((await api.delete(`/v1/share/${s.id}`)).status).toBe(204);
    expect((await anon.get(`/v1/share/${s.id}`)).status).toBe(404);
    expect((await api.delete(`/v1/share/${s.id}`)).status).toBe(404);
    expect((await api.get("/v1/shares/outbound")).body.shares.map((x: { id: string }) => x.id)).not.toContain(s.id);
    expect((await anon.delete(`/v1/share/${s.id}`)).status).toBe(401);
    const actions = (await server.rt.db.auditEvent.findMany({ where: { resourceId: s.id }, select: { action: true } })).map((e) => e.action).sort();
    expect(actions).toEqual(["share.access", "share.create", "share.revoke"]);
  });

  it("a deleted secret's share answers 410", async () => {
    const tmp = (await api.put(`/v1/vaults/${vaultId}/secrets/tmp/one`, { value: "bye" })).body.id;
    const s = await share(api, { recipient_type: "anyone_with_link" }, tmp);
    expect((await api.delete(`/v1/vaults/${vaultId}/secrets/tmp/one`)).status).toBe(204);
    expect((await anon.get(`/v1/share/${s.id}`)).status).toBe(410);
  });
});
