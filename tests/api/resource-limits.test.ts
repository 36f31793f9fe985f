import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";

/** Plan limits on vaults, secrets and agents hold under concurrent creation; Talon's own keys are free. */
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ env: { TALON_BILLING: "on" } });
});
afterAll(async () => {
  await server?.close();
});

const limitBody = (kind: string, used: number, limit: number, tier = "free") => ({
  type: "resource_limit_exceeded",
  status: 403,
  detail: `${kind} limit reached (${used}/${limit} on ${tier} tier). Upgrade your plan for more at ${server.rt.config.publicUrl}/settings/billing.`,
});

describe("resource limits", () => {
  test("10 concurrent vault creations on free with 1 existing: exactly 2 succeed", async () => {
    const { token, orgId } = await signUpVerified(server, { tier: "free" });
    const api = client(server.url, token);
    expect((await api.post("/v1/vaults", { name: "existing" })).status).toBe(201);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => api.post("/v1/vaults", { name: `v${i}` })));
    expect(results.filter((r) => r.status === 201).length).toBe(2);
    const refused = results.filter((r) => r.status === 403);
    expect(refused.length).toBe(8);
    expect(refused[0]!.body).toMatchObject(limitBody("Vault", 3, 3));
    expect(await server.rt.db.vault.count({ where: { orgId } })).toBe(3);

    // Positive control: the same call succeeds once the plan allows more.
    await server.rt.db.org.update({ where: { id: orgId }, data: { tier: "pro" } });
    expect((await api.post("/v1/vaults", { name: "fourth" })).status).toBe(201);
  });

  test("agents: the __agent-keys vault and SSH keys don't count; the third agent on free is refused, concurrently too", async () => {
    const { token, orgId } = await signUpVerified(server, { tier: "free" });
    const api = client(server.url, token);
    for (const name of ["a", "b", "c"]) expect((await api.post("/v1/vaults", { name })).status).toBe(201);
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => api.post("/v1/agents", { name: `agent-${i}` })));
    expect(results.filter((r) => r.status === 201).length).toBe(2);
    const refused = results.filter((r) => r.status === 403);
    expect(refused.length).toBe(3);
    expect(refused[0]!.body).toMatchObject(limitBody("Agent", 2, 2));
    expect(await server.rt.db.agent.count({ where: { orgId } })).toBe(2);
    // No orphaned keys from the refused registrations: each registered agent has its SSH and its X25519 key.
    expect(await server.rt.db.secret.count({ where: { vault: { orgId, name: "__agent-keys" } } })).toBe(4);

    const sub = await api.get("/v1/billing/subscription");
    expect(sub.body.usage.vaults).toEqual({ used: 3, limit: 3 });
    expect(sub.body.usage.agents).toEqual({ used: 2, limit: 2 });
    expect(sub.body.usage.secrets).toEqual({ used: 0, limit: 50 });
  });

  test("secrets: the 51st path on free is refused (one of 5 concurrent wins), new versions of existing paths are not", async () => {
    const { token } = await signUpVerified(server, { tier: "free" });
    const api = client(server.url, token);
    const vault = (await api.post("/v1/vaults", { name: "s" })).body.id as string;
    for (let i = 0; i < 49; i += 7) {
      const batch = await Promise.all(Array.from({ length: Math.min(7, 49 - i) }, (_, j) => api.put(`/v1/vaults/${vault}/secrets/k/${i + j}`, { value: "x" })));
      expect(batch.every((r) => r.status === 201)).toBe(true);
    }
    const racers = await Promise.all(Array.from({ length: 5 }, (_, i) => api.put(`/v1/vaults/${vault}/secrets/race/${i}`, { value: "x" })));
    expect(racers.filter((r) => r.status === 201).length).toBe(1);
    const refused = racers.filter((r) => r.status === 403);
    expect(refused.length).toBe(4);
    expect(refused[0]!.body).toMatchObject(limitBody("Secret", 50, 50));
    expect((await api.put(`/v1/vaults/${vault}/secrets/one-more`, { value: "x" })).status).toBe(403);
    // A new version is not a new secret.
    expect((await api.put(`/v1/vaults/${vault}/secrets/k/0`, { value: "y" })).status).toBe(201);
    // Deleting one frees a slot.
    expect((await api.delete(`/v1/vaults/${vault}/secrets/k/1`)).status).toBe(204);
    expect((await api.put(`/v1/vaults/${vault}/secrets/one-more`, { value: "x" })).status).toBe(201);
    // Back at 50: restoring the deleted path is a new live secret too, and is refused like one.
    const restore = await api.put(`/v1/vaults/${vault}/secrets/k/1`, { value: "z" });
    expect(restore.status).toBe(403);
    expect(restore.body).toMatchObject(limitBody("Secret", 50, 50));
    expect((await api.get(`/v1/vaults/${vault}/secrets/k/1`)).status).toBe(410);
    // With a slot free again, the restore goes through.
    expect((await api.delete(`/v1/vaults/${vault}/secrets/k/2`)).status).toBe(204);
    expect((await api.put(`/v1/vaults/${vault}/secrets/k/1`, { value: "z" })).status).toBe(201);
  });
});
