import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { startTwinServers, type TwinServers } from "../helpers/agents";
import { client } from "../helpers/http";
import { addAgent, grant } from "../helpers/policies";

/**
 * A single-use approval under concurrency, across two instances on one database: its one use is
 * taken by one conditional UPDATE, so of many simultaneous retries exactly one reads the value.
 */
let twins: TwinServers;

beforeAll(async () => {
  twins = await startTwinServers();
});
afterAll(async () => {
  await twins?.close();
});

describe("single-use approval under concurrency", () => {
  it("40 concurrent retries on two instances: exactly one 200, the rest approval_required", async () => {
    const value = `race-canary-${randomUUID()}`;
    const owner = await signUpVerified(twins.a);
    const api = client(twins.a.url, owner.token);
    const vaultId = (await api.post("/v1/vaults", { name: "race" })).body.id as string;
    expect((await api.put(`/v1/vaults/${vaultId}/secrets/db/password`, { value })).status).toBe(201);
    const agent = await addAgent(twins.a, owner.token);
    await grant(api, vaultId, { principal_type: "agent", principal_id: agent.agentId, require_approval: true });
    const url = `/v1/vaults/${vaultId}/secrets/db/password`;
    const asked = await agent.api.get(url);
    expect(asked.body.type).toBe("approval_required");
    const id = asked.body.approval_request_id as string;
    expect((await api.post(`/v1/approvals/${id}/approve`, {})).status).toBe(200);

    const readers = [client(twins.a.url, agent.token), client(twins.b.url, agent.token)];
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => readers[i % 2]!.get(url)));
    const ok = results.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    expect(ok[0]!.body.value).toBe(value);
    const refused = results.filter((r) => r.status !== 200);
    expect(refused).toHaveLength(39);
    expect(refused.every((r) => r.status === 403 && r.body.type === "approval_required" && r.body.approval_request_id !== id)).toBe(true);
    expect(refused.every((r) => !r.text.includes(value))).toBe(true);

    const row = await twins.a.rt.db.approvalRequest.findUnique({ where: { id } });
    expect(row).toMatchObject({ status: "used", usesLeft: 0 });
    expect(await twins.a.rt.db.auditEvent.count({ where: { action: "approval.used", resourceId: id } })).toBe(1);
  });
});
