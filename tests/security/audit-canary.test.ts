import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified, uniqueEmail } from "../helpers/accounts";
import { client } from "../helpers/http";
import { addAgent } from "../helpers/policies";
import { startTestServer, testDialect, type TestServer } from "../helpers/server";

/**
 * The audit log's two promises at the boundary: no event ever holds a credential or a secret value
 * (canaries pushed through every route that handles one), and no secret leaves when its event cannot
 * be written (a trigger makes every audit insert fail in this test's own database).
 */
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

const inOneDay = () => new Date(Date.now() + 86_400_000).toISOString();

async function everyAuditRowAsText(): Promise<string> {
  const rows = await server.rt.db.auditEvent.findMany();
  return rows.map((r) => JSON.stringify(r)).join("\n");
}

describe("no credential or secret value in any audit event", () => {
  it("keeps canary values, passwords, passphrases, keys and tokens out of the log", async () => {
    const canaries: string[] = [];
    const password = `canary-password-${crypto.randomUUID()}`;
    const owner = await signUpVerified(server, { email: uniqueEmail("canary"), password });
    canaries.push(password, owner.token);
    await server.rt.db.org.update({ where: { id: owner.orgId }, data: { tier: "enterprise" } });
    const api = client(server.url, owner.token);
    const anon = client(server.url);

    const wrongPassword = `canary-wrong-${crypto.randomUUID()}`;
    canaries.push(wrongPassword);
    expect((await anon.post("/v1/auth/token", { email: owner.email, password: wrongPassword })).status).toBe(401);
    const login = await anon.post("/v1/auth/token", { email: owner.email, password });
    expect(login.status).toBe(200);
    canaries.push(login.body.access_token, login.body.refresh_token);
    const refreshed = await anon.post("/v1/auth/refresh", { refresh_token: login.body.refresh_token });
    expect(refreshed.status).toBe(200);
    canaries.push(refreshed.body.access_token, refreshed.body.refresh_token);

    const key = await api.post("/v1/auth/api-keys", { name: "canary key" });
    expect(key.status).toBe(201);
    const personalKey = key.body.api_key as string;
    expect(personalKey).toMatch(/^1ck_/);
    canaries.push(personalKey);
    const exchanged = await anon.post("/v1/auth/api-key-token", { api_key: personalKey });
    expect(exchanged.status).toBe(200);
    canaries.push(exchanged.body.access_token);
    expect((await anon.post("/v1/auth/api-key-token", { api_key: `1ck_${"A".repeat(43)}` })).status).toBe(401);

    const agent = await api.post("/v1/agents", { name: "canary-agent" });
    expect(agent.status).toBe(201);
    canaries.push(agent.body.api_key);
    const agentToken = await anon.post("/v1/auth/agent-token", { agent_id: agent.body.agent.id, api_key: agent.body.api_key });
    expect(agentToken.status).toBe(200);
    canaries.push(agentToken.body.access_token);
    const rotated = await api.post(`/v1/agents/${agent.body.agent.id}/rotate-key`);
    expect(rotated.status).toBe(200);
    canaries.push(rotated.body.api_key);
    const wrongAgentKey = `ocv_${"B".repeat(43)}`;
    canaries.push(wrongAgentKey);
    expect((await anon.post("/v1/auth/agent-token", { agent_id: agent.body.agent.id, api_key: wrongAgentKey })).status).toBe(401);

    const secretValue = `canary-secret-${crypto.randomUUID()}`;
    canaries.push(secretValue);
    const vaultId = (await api.post("/v1/vaults", { name: "canary" })).body.id;
    const put = await api.put(`/v1/vaults/${vaultId}/secrets/canary/value`, { value: secretValue, metadata: { note: "public" } });
    expect(put.status).toBe(201);
    expect((await api.get(`/v1/vaults/${vaultId}/secrets/canary/value`)).body.value).toBe(secretValue);
    const rotatedSecret = await api.post(`/v1/vaults/${vaultId}/secret-rotate/canary/value`, { length: 48 });
    expect(rotatedSecret.status).toBe(201);
    canaries.push(rotatedSecret.body.value);

    const passphrase = `canary-passphrase-${crypto.randomUUID()}`;
    canaries.push(passphrase);
    const share = await api.post(`/v1/secrets/${put.body.id}/share`, { recipient_type: "anyone_with_link", expires_at: inOneDay(), passphrase });
    expect(share.status).toBe(201);
    expect((await anon.get(`/v1/share/${share.body.id}`, { "X-Share-Passphrase": `${passphrase}-wrong` })).status).toBe(403);
    expect((await anon.get(`/v1/share/${share.body.id}`, { "X-Share-Passphrase": passphrase })).body.value).toBe(rotatedSecret.body.value);

    const agentSession = await addAgent(server, owner.token);
    canaries.push(agentSession.token);
    expect((await agentSession.api.delete("/v1/auth/token")).status).toBe(204);

    const log = await everyAuditRowAsText();
    // Positive control: the events are there, so the absence below means something.
    for (const action of ["auth.failure", "secret.write", "secret.read", "secret.rotate", "share.create", "share.access", "agent.rotate_key"]) {
      expect(log).toContain(`"action":"${action}"`);
    }
    for (const canary of canaries) {
      expect(typeof canary).toBe("string");
      expect(canary.length).toBeGreaterThan(10);
      expect(log).not.toContain(canary);
    }
  });
});

describe("fail closed when the audit event cannot be written", () => {
  const refuse =
    testDialect === "postgres"
      ? [
          `CREATE FUNCTION talon_test_refuse_audit() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'audit refused'; END $$ LANGUAGE plpgsql`,
          `CREATE TRIGGER talon_test_refuse_audit BEFORE INSERT ON "AuditEvent" FOR EACH ROW EXECUTE FUNCTION talon_test_refuse_audit()`,
        ]
      : [`CREATE TRIGGER talon_test_refuse_audit BEFORE INSERT ON "AuditEvent" BEGIN SELECT RAISE(ABORT, 'audit refused'); END`];
  const allow =
    testDialect === "postgres"
      ? [`DROP TRIGGER talon_test_refuse_audit ON "AuditEvent"`, `DROP FUNCTION talon_test_refuse_audit()`]
      : [`DROP TRIGGER talon_test_refuse_audit`];
  const run = async (sqls: string[]) => {
    for (const sql of sqls) await server.rt.db.$executeRawUnsafe(sql);
  };

  it("answers 5xx without the value for reads, share reads and writes, and the write does not happen", async () => {
    const owner = await signUpVerified(server);
    const api = client(server.url, owner.token);
    const vaultId = (await api.post("/v1/vaults", { name: "fail-closed" })).body.id;
    const put = await api.put(`/v1/vaults/${vaultId}/secrets/guarded`, { value: "guarded-value-v1" });
    const share = await api.post(`/v1/secrets/${put.body.id}/share`, { recipient_type: "anyone_with_link", expires_at: inOneDay(), max_access_count: 0 });
    expect(share.status).toBe(201);
    // Positive control: both reads work while the log is writable.
    expect((await api.get(`/v1/vaults/${vaultId}/secrets/guarded`)).body.value).toBe("guarded-value-v1");
    expect((await client(server.url).get(`/v1/share/${share.body.id}`)).body.value).toBe("guarded-value-v1");

    await run(refuse);
    try {
      const read = await api.get(`/v1/vaults/${vaultId}/secrets/guarded`);
      expect(read.status).toBe(500);
      expect(read.text).not.toContain("guarded-value");
      const shared = await client(server.url).get(`/v1/share/${share.body.id}`);
      expect(shared.status).toBe(500);
      expect(shared.text).not.toContain("guarded-value");
      const write = await api.put(`/v1/vaults/${vaultId}/secrets/guarded`, { value: "guarded-value-v2" });
      expect(write.status).toBe(500);
      expect(write.text).not.toContain("guarded-value");
    } finally {
      await run(allow);
    }
    const after = await api.get(`/v1/vaults/${vaultId}/secrets/guarded`);
    expect(after.body).toMatchObject({ value: "guarded-value-v1", version: 1 });
    expect((await api.get("/v1/audit/verify")).body.chain_valid).toBe(true);
  });
});
