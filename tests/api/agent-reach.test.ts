import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentReach, testAgentAccess } from "../../server/agents/reach";
import { ApiError } from "../../server/http/errors";
import type { Ctx } from "../../server/http/principal";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { addAgent, addOrgUser, NO_RATE_LIMITS } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * An agent's page answers "what can it reach?" (issue 11 item 6) with the enforcing code: every path
 * the reach lists is one the agent's own requests can read, and every path it leaves out is refused to
 * them; "test access" gives the verdict and the refusal the agent would get.
 */
let server: TestServer;
let owner: Awaited<ReturnType<typeof signUpVerified>>;
let api: ReturnType<typeof client>;
let vaultA: string;
let vaultB: string;

const sessionCtx = (a: { userId: string; orgId: string }, role: "owner" | "admin" | "member" = "owner"): Ctx => ({
  rt: server.rt,
  principal: { kind: "user", userId: a.userId, orgId: a.orgId, role, via: "session", credentialId: randomUUID() },
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

const grant = (vaultId: string, agentId: string, pattern: string, extra: Record<string, unknown> = {}) =>
  api.post(`/v1/vaults/${vaultId}/policies`, { principal_type: "agent", principal_id: agentId, secret_path_pattern: pattern, permissions: ["read"], ...extra });

beforeAll(async () => {
  server = await startTestServer({ env: NO_RATE_LIMITS });
  owner = await signUpVerified(server);
  api = client(server.url, owner.token);
  vaultA = (await api.post("/v1/vaults", { name: "reach-a" })).body.id;
  vaultB = (await api.post("/v1/vaults", { name: "reach-b" })).body.id;
  for (const p of ["db/main", "db/replica", "api/stripe", "other/x"]) await api.put(`/v1/vaults/${vaultA}/secrets/${p}`, { value: `v-${p}` });
  await api.put(`/v1/vaults/${vaultA}/secrets/keys/base-signer`, { value: "k", type: "private_key" });
  await api.put(`/v1/vaults/${vaultB}/secrets/b/one`, { value: "b1" });
});
afterAll(async () => {
  await server?.close();
});

describe("agent reach", () => {
  it("lists exactly the paths the agent's own requests can read: deny beats allow, raw keys refused under the proxy", async () => {
    const agent = await addAgent(server, owner.token, { cryptoProxyEnabled: true });
    expect((await grant(vaultA, agent.agentId, "db/**")).status).toBe(201);
    expect((await grant(vaultA, agent.agentId, "db/replica", { effect: "deny" })).status).toBe(201);
    expect((await grant(vaultA, agent.agentId, "keys/*")).status).toBe(201);

    const reach = await agentReach(sessionCtx(owner), agent.agentId);
    expect(reach.active).toBe(true);
    expect(reach.policies.map((p) => `${p.vault_name}:${p.effect}:${p.secret_path_pattern}`)).toEqual(["reach-a:allow:db/**", "reach-a:deny:db/replica", "reach-a:allow:keys/*"]);
    // reach-a, and Talon's system vault, where every agent reads its own SSH and X25519 keys (raw keys: refused under the proxy).
    expect(reach.vaults.map((v) => v.vault_name)).toEqual(["__agent-keys", "reach-a"]);
    expect(reach.vaults[0]!.paths).toEqual([
      { path: `agents/${agent.agentId}`, type: "ssh_key", use_only: false, value_refused: true },
      { path: `agents/${agent.agentId}/ecdh`, type: "private_key", use_only: false, value_refused: true },
    ]);
    const a = reach.vaults[1]!;
    expect(a.paths).toEqual([
      { path: "db/main", type: "generic", use_only: false, value_refused: false },
      { path: "keys/base-signer", type: "private_key", use_only: false, value_refused: true },
    ]);

    // The enforcing side agrees, path by path.
    const read = (p: string) => agent.api.get(`/v1/vaults/${vaultA}/secrets/${p}`);
    expect((await read("db/main")).status).toBe(200);
    expect((await read("db/replica")).status).toBe(403);
    expect((await read("api/stripe")).status).toBe(403);
    expect((await read("keys/base-signer")).status).toBe(403);
    expect((await agent.api.get(`/v1/vaults/${vaultB}/secrets/b/one`)).status).toBe(403);
  });

  it("a bound agent: its policy on another vault is listed with the binding's refusal", async () => {
    const agent = await addAgent(server, owner.token, { vaultIds: [vaultA] });
    await grant(vaultA, agent.agentId, "other/*");
    await grant(vaultB, agent.agentId, "**");
    const reach = await agentReach(sessionCtx(owner), agent.agentId);
    const byName = Object.fromEntries(reach.vaults.map((v) => [v.vault_name, v]));
    expect(byName["reach-a"]!.paths.map((p) => p.path)).toEqual(["other/x"]);
    expect(byName["reach-b"]!.paths).toEqual([]);
    expect(byName["reach-b"]!.refused).toContain("bound to other vaults");
    expect((await agent.api.get(`/v1/vaults/${vaultB}/secrets/b/one`)).status).toBe(403);
    expect((await agent.api.get(`/v1/vaults/${vaultA}/secrets/other/x`)).status).toBe(200);
  });

  it("a path held with use alone is listed as use only, and test access says why a read is refused", async () => {
    const agent = await addAgent(server, owner.token);
    await grant(vaultA, agent.agentId, "db/main", { permissions: ["use"] });
    await grant(vaultA, agent.agentId, "api/*");
    const reach = await agentReach(sessionCtx(owner), agent.agentId);
    expect(reach.policies.map((p) => p.permissions)).toEqual([["use"], ["read"]]);
    expect(reach.vaults.find((v) => v.vault_name === "reach-a")!.paths).toEqual([
      { path: "api/stripe", type: "generic", use_only: false, value_refused: false },
      { path: "db/main", type: "generic", use_only: true, value_refused: false },
    ]);
    const verdict = await testAgentAccess(sessionCtx(owner), { agentId: agent.agentId, vaultId: vaultA, path: "db/main" });
    expect(verdict.use).toEqual({ allowed: true, reason: null });
    expect(verdict.read.allowed).toBe(false);
    expect(verdict.read.reason).toContain("You hold `use` on this path, not `read`");
    // The enforcing side agrees.
    expect((await agent.api.get(`/v1/vaults/${vaultA}/secrets/db/main`)).status).toBe(403);
    expect((await agent.api.get(`/v1/vaults/${vaultA}/secrets/api/stripe`)).status).toBe(200);
  });

  it("test access gives the enforcing verdict and refusal for read and write", async () => {
    const agent = await addAgent(server, owner.token);
    await grant(vaultA, agent.agentId, "db/*");
    const ok = await testAgentAccess(sessionCtx(owner), { agentId: agent.agentId, vaultId: vaultA, path: "db/main" });
    expect(ok.read).toEqual({ allowed: true, reason: null });
    expect(ok.use).toEqual({ allowed: true, reason: null });
    expect(ok.write.allowed).toBe(false);
    expect(ok.write.reason).toContain("No policy grants you write access");
    const no = await testAgentAccess(sessionCtx(owner), { agentId: agent.agentId, vaultId: vaultA, path: "api/stripe" });
    expect(no.read.allowed).toBe(false);

    // Deactivated: nothing, whatever its policies say.
    expect((await api.patch(`/v1/agents/${agent.agentId}`, { is_active: false })).status).toBe(200);
    const off = await testAgentAccess(sessionCtx(owner), { agentId: agent.agentId, vaultId: vaultA, path: "db/main" });
    expect(off.read.allowed).toBe(false);
    expect((await agentReach(sessionCtx(owner), agent.agentId)).vaults).toEqual([]);
  });

  it("owners and admins only; another org's agent or vault is 404", async () => {
    const agent = await addAgent(server, owner.token);
    const member = await addOrgUser(server, owner.orgId, "member");
    const admin = await addOrgUser(server, owner.orgId, "admin");
    expect(await statusOf(agentReach(sessionCtx({ userId: member.userId, orgId: owner.orgId }, "member"), agent.agentId))).toBe(403);
    expect(await statusOf(testAgentAccess(sessionCtx({ userId: member.userId, orgId: owner.orgId }, "member"), { agentId: agent.agentId, vaultId: vaultA, path: "db/main" }))).toBe(403);
    expect(await statusOf(agentReach(sessionCtx({ userId: admin.userId, orgId: owner.orgId }, "admin"), agent.agentId))).toBe(200);
    const stranger = await signUpVerified(server);
    expect(await statusOf(agentReach(sessionCtx(stranger), agent.agentId))).toBe(404);
    const theirAgent = await addAgent(server, stranger.token);
    expect(await statusOf(testAgentAccess(sessionCtx(owner), { agentId: theirAgent.agentId, vaultId: vaultA, path: "db/main" }))).toBe(404);
    const theirVault = (await client(server.url, stranger.token).post("/v1/vaults", { name: "theirs" })).body.id as string;
    expect(await statusOf(testAgentAccess(sessionCtx(owner), { agentId: agent.agentId, vaultId: theirVault, path: "db/main" }))).toBe(404);
  });
});
