import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertPathAccess } from "../../server/access/evaluate";
import { ApiError } from "../../server/http/errors";
import type { Ctx } from "../../server/http/principal";
import { authenticateBearer } from "../../server/identity/authenticate";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { addAgent, grant, NO_RATE_LIMITS } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * The access decision on a secret path answers at once — undefined for an allow, a synchronous throw for
 * a refusal, no promise and no turn of the event loop — once the caller's principal row and policies are
 * cached (issue 10: the hot read's decision), and through a promise while they load. The cache must never
 * weaken revocation: a policy deleted or an agent disabled is refused on the very next decision, at once.
 */
describe("the access decision answers at once from cached policies", () => {
  let server: TestServer;
  let owner: Awaited<ReturnType<typeof signUpVerified>>;
  let vaultId: string;

  beforeAll(async () => {
    server = await startTestServer({ env: NO_RATE_LIMITS });
    owner = await signUpVerified(server);
    vaultId = (await client(server.url, owner.token).post("/v1/vaults", { name: "at-once" })).body.id as string;
  });
  afterAll(async () => {
    await server?.close();
  });

  const vaultRow = () => server.rt.db.vault.findUniqueOrThrow({ where: { id: vaultId } });
  const ctxOf = async (token: string): Promise<Ctx> => {
    const meta = { ip: "127.0.0.1", requestId: randomUUID() };
    return { rt: server.rt, principal: await authenticateBearer(server.rt, token, meta), requestId: meta.requestId, ip: meta.ip };
  };

  it("loads through a promise, then answers at once: undefined for an allow, a 403 thrown for a path no policy grants", async () => {
    const agent = await addAgent(server, owner.token);
    const api = client(server.url, owner.token);
    const policy = await grant(api, vaultId, { principal_type: "agent", principal_id: agent.agentId, secret_path_pattern: "app/**", permissions: ["read"] });
    const vault = await vaultRow();

    // First decision of a fresh request: the policies load.
    const first = assertPathAccess(await ctxOf(agent.token), vault, "app/db", "read");
    expect(first).toBeInstanceOf(Promise);
    await first;

    // The next request finds the principal's row and its policies cached.
    const ctx = await ctxOf(agent.token);
    expect(assertPathAccess(ctx, vault, "app/db", "read")).toBeUndefined();
    let refused: unknown;
    try {
      assertPathAccess(ctx, vault, "other/db", "read");
    } catch (e) {
      refused = e;
    }
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).status).toBe(403);

    // Revoked: the policy's deletion is seen by the next decision, whatever the cache held.
    expect((await api.delete(`/v1/vaults/${vaultId}/policies/${policy.id}`)).status).toBe(204);
    const after = await ctxOf(agent.token);
    await expect(Promise.resolve().then(() => assertPathAccess(after, vault, "app/db", "read"))).rejects.toMatchObject({ status: 403 });
  });

  it("authenticates a token verified before, whose principal's row is cached, at once; a revoked one is thrown at once", async () => {
    const agent = await addAgent(server, owner.token);
    const meta = () => ({ ip: "127.0.0.1", requestId: randomUUID() });
    const first = authenticateBearer(server.rt, agent.token, meta());
    expect(first).toBeInstanceOf(Promise); // the signature is verified and the row loaded
    const loaded = await first;
    const again = authenticateBearer(server.rt, agent.token, meta());
    expect(again).not.toBeInstanceOf(Promise);
    expect(again).toEqual(loaded);
    expect(again).toMatchObject({ kind: "agent", agentId: agent.agentId, via: "jwt" });
    const user = await authenticateBearer(server.rt, owner.token, meta());
    expect(authenticateBearer(server.rt, owner.token, meta())).toEqual(user);

    // Disabled: the row's cache is dropped by the write, so the next call loads it and refuses.
    expect((await client(server.url, owner.token).patch(`/v1/agents/${agent.agentId}`, { is_active: false })).status).toBe(200);
    await expect(Promise.resolve().then(() => authenticateBearer(server.rt, agent.token, meta()))).rejects.toMatchObject({ status: 401 });
    // And refused at once once that row is cached again.
    expect(() => authenticateBearer(server.rt, agent.token, meta())).toThrow(ApiError);
  });

  it("authenticates an ocv_ key whose row is cached at once; a wrong key with the same prefix is thrown at once", async () => {
    const created = await client(server.url, owner.token).post("/v1/agents", { name: `key-${randomUUID().slice(0, 8)}` });
    expect(created.status).toBe(201);
    const key = created.body.api_key as string;
    const meta = () => ({ ip: "127.0.0.1", requestId: randomUUID() });
    const loaded = await authenticateBearer(server.rt, key, meta());
    expect(loaded).toMatchObject({ kind: "agent", agentId: created.body.agent.id, via: "api_key" });
    const again = authenticateBearer(server.rt, key, meta());
    expect(again).not.toBeInstanceOf(Promise);
    expect(again).toEqual(loaded);
    const last = key.at(-1) === "A" ? "B" : "A";
    expect(() => authenticateBearer(server.rt, key.slice(0, -1) + last, meta())).toThrow(ApiError);
  });

  it("an agent disabled after its row was cached is refused on its next request", async () => {
    const agent = await addAgent(server, owner.token);
    await grant(client(server.url, owner.token), vaultId, { principal_type: "agent", principal_id: agent.agentId, secret_path_pattern: "app/**", permissions: ["read"] });
    const read = () => client(server.url, agent.token).get(`/v1/vaults/${vaultId}/secrets/app/none`);
    expect((await read()).status).toBe(404); // allowed, and nothing there
    expect((await read()).status).toBe(404); // again, from the caches
    expect((await client(server.url, owner.token).patch(`/v1/agents/${agent.agentId}`, { is_active: false })).status).toBe(200);
    expect((await read()).status).toBe(401);
  });
});
