import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { startTwinServers, type TwinServers } from "../helpers/agents";
import { client } from "../helpers/http";
import { addAgent, grant } from "../helpers/policies";
import { type Receiver, startReceiver } from "../helpers/webhook-receiver";

/**
 * A single-use approval taken by a request that then fails before its effect (the secret or version
 * does not exist, the destination cannot be reached) is given back by one conditional UPDATE; once
 * the value was returned or the credential sent, it is spent. Across two instances on one database.
 */
let twins: TwinServers;
let upstream: Receiver;

beforeAll(async () => {
  twins = await startTwinServers();
  upstream = await startReceiver(() => ({ status: 200, body: "ok" }));
});
afterAll(async () => {
  await upstream?.close();
  await twins?.close();
});

async function setup(approval: Record<string, unknown> = { require_approval: true }) {
  const owner = await signUpVerified(twins.a);
  const api = client(twins.a.url, owner.token);
  const vaultId = (await api.post("/v1/vaults", { name: `giveback-${randomUUID().slice(0, 6)}` })).body.id as string;
  const agent = await addAgent(twins.a, owner.token);
  await grant(api, vaultId, { principal_type: "agent", principal_id: agent.agentId, ...approval });
  return { owner, api, vaultId, agent };
}

const rowOf = (id: string) => twins.a.rt.db.approvalRequest.findUnique({ where: { id }, select: { status: true, usesLeft: true } });
const countOf = (action: string, id: string) => twins.a.rt.db.auditEvent.count({ where: { action, resourceId: id } });

/** A loopback port nobody listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const s: Server = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

describe("single-use approvals given back when the request fails before its effect", () => {
  it("a read of a missing secret gives the approval back; the read that returns the value spends it", async () => {
    const { api, vaultId, agent } = await setup();
    const url = `/v1/vaults/${vaultId}/secrets/db/password`;
    const asked = await agent.api.get(url);
    expect(asked.body.type).toBe("approval_required");
    const id = asked.body.approval_request_id as string;
    expect((await api.post(`/v1/approvals/${id}/approve`, {})).status).toBe(200);

    expect((await agent.api.get(url)).status).toBe(404);
    expect(await rowOf(id)).toEqual({ status: "approved", usesLeft: 1 });
    expect(await countOf("approval.returned", id)).toBe(1);
    expect((await agent.api.get(url)).status).toBe(404);
    expect(await rowOf(id)).toEqual({ status: "approved", usesLeft: 1 });

    expect((await api.put(url, { value: "now-it-exists" })).status).toBe(201);
    const read = await agent.api.get(url);
    expect(read.status).toBe(200);
    expect(read.body.value).toBe("now-it-exists");
    expect(await rowOf(id)).toEqual({ status: "used", usesLeft: 0 });
    expect(await countOf("approval.returned", id)).toBe(2);
    const after = await agent.api.get(url);
    expect(after.body.type).toBe("approval_required");
    expect(after.body.approval_request_id).not.toBe(id);
  });

  it("40 concurrent retries on two instances, half for a missing version, then 10 more: exactly one value returned", async () => {
    const { api, vaultId, agent } = await setup();
    const value = `giveback-race-${randomUUID()}`;
    expect((await api.put(`/v1/vaults/${vaultId}/secrets/db/password`, { value })).status).toBe(201);
    const good = `/v1/vaults/${vaultId}/secrets/db/password`;
    const missing = `/v1/vaults/${vaultId}/secret-version/db/password/99`;
    const asked = await agent.api.get(good);
    const id = asked.body.approval_request_id as string;
    // The same ask (read of db/password) whichever route reads it.
    expect((await agent.api.get(missing)).body.approval_request_id).toBe(id);
    expect((await api.post(`/v1/approvals/${id}/approve`, {})).status).toBe(200);

    const readers = [client(twins.a.url, agent.token), client(twins.b.url, agent.token)];
    const burst = await Promise.all(Array.from({ length: 40 }, (_, i) => readers[i % 2]!.get(i % 4 < 2 ? missing : good)));
    // A good read may find the use held for a moment by a failing one (then given back): at most one
    // succeeds in the burst, and if none did, the use is still there for the next concurrent retries.
    expect(burst.filter((r) => r.status === 200).length).toBeLessThanOrEqual(1);
    const retries = await Promise.all(Array.from({ length: 10 }, (_, i) => readers[i % 2]!.get(good)));
    const results = [...burst, ...retries];
    const ok = results.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    expect(ok[0]!.body.value).toBe(value);
    for (const r of results.filter((x) => x.status !== 200)) {
      expect(r.status === 404 || r.body.type === "approval_required").toBe(true);
      expect(r.text).not.toContain(value);
    }
    expect(await rowOf(id)).toEqual({ status: "used", usesLeft: 0 });
    // Every take but the successful one was given back.
    expect((await countOf("approval.used", id)) - (await countOf("approval.returned", id))).toBe(1);
  });

  it("execute: a destination that refuses the connection gives the approval back; an answered request spends it", async () => {
    const { api, vaultId, agent } = await setup({ permissions: ["use"], require_approval: true });
    expect((await api.put(`/v1/vaults/${vaultId}/secrets/api/token`, { value: `tok-${randomUUID()}`, type: "api_key" })).status).toBe(201);
    const base = { secret_path: "api/token", scheme: "http", host: "127.0.0.1", path_prefix: "/", methods: ["GET"], inject: { kind: "bearer" }, internal: true };
    expect((await api.post(`/v1/vaults/${vaultId}/bindings`, { ...base, name: "dead", port: await closedPort() })).status).toBe(201);
    expect((await api.post(`/v1/vaults/${vaultId}/bindings`, { ...base, name: "live", port: upstream.port })).status).toBe(201);
    const exec = (b: string) => agent.api.post(`/v1/agents/${agent.agentId}/execute`, { binding: b, vault_id: vaultId, method: "GET", path: "/x" });

    const asked = await exec("dead");
    expect(asked.body.type).toBe("approval_required");
    const id = asked.body.approval_request_id as string;
    expect((await api.post(`/v1/approvals/${id}/approve`, {})).status).toBe(200);

    const refused = await exec("dead");
    expect(refused.status).toBe(502);
    expect(await rowOf(id)).toEqual({ status: "approved", usesLeft: 1 });

    const answered = await exec("live");
    expect(answered.status).toBe(200);
    expect(answered.body.body).toBe("ok");
    expect(await rowOf(id)).toEqual({ status: "used", usesLeft: 0 });
    expect((await exec("live")).body.type).toBe("approval_required");
  });
});
