import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readOutbox, signUpVerified } from "../helpers/accounts";
import { startTwinServers, type TwinServers } from "../helpers/agents";
import { client } from "../helpers/http";
import { addAgent, grant } from "../helpers/policies";

/**
 * Concurrent first asks for the same thing (who, action, vault, path) make one pending approval
 * request, across two instances on one database: the row carries a unique pendingKey while pending,
 * the losers of the insert are told the winner's id, and the owners get one mail.
 */
let twins: TwinServers;

beforeAll(async () => {
  twins = await startTwinServers();
});
afterAll(async () => {
  await twins?.close();
});

const approvalMails = (email: string) => readOutbox(twins.a).filter((m) => m.to.toLowerCase().includes(email) && m.subject.includes("approval request is waiting"));

describe("pending approval requests under concurrency", () => {
  it("30 concurrent first asks on two instances: one pending request, every caller told its id, one mail", async () => {
    const owner = await signUpVerified(twins.a);
    const api = client(twins.a.url, owner.token);
    const vaultId = (await api.post("/v1/vaults", { name: "pending-race" })).body.id as string;
    expect((await api.put(`/v1/vaults/${vaultId}/secrets/db/password`, { value: "pending-race-value" })).status).toBe(201);
    const agent = await addAgent(twins.a, owner.token);
    await grant(api, vaultId, { principal_type: "agent", principal_id: agent.agentId, require_approval: true });
    const url = `/v1/vaults/${vaultId}/secrets/db/password`;
    const mailsBefore = approvalMails(owner.email).length;

    const askers = [client(twins.a.url, agent.token), client(twins.b.url, agent.token)];
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => askers[i % 2]!.get(url)));
    expect(results.map((r) => `${r.status} ${r.body.type}`)).toEqual(Array(30).fill("403 approval_required"));

    const rows = await twins.a.rt.db.approvalRequest.findMany({ where: { orgId: owner.orgId, status: "pending" } });
    expect(rows).toHaveLength(1);
    const id = rows[0]!.id;
    expect(rows[0]!.pendingKey).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(results.map((r) => r.body.approval_request_id))).toEqual(new Set([id]));
    expect(await twins.a.rt.db.auditEvent.count({ where: { action: "approval.requested", resourceId: id } })).toBe(1);
    expect(approvalMails(owner.email).length - mailsBefore).toBe(1);

    // Deciding clears the key in the same statement: after a deny, the next ask is a new request.
    expect((await api.post(`/v1/approvals/${id}/deny`, { note: "no" })).status).toBe(200);
    expect(await twins.a.rt.db.approvalRequest.findUnique({ where: { id }, select: { status: true, pendingKey: true } })).toEqual({ status: "denied", pendingKey: null });
    const again = await askers[1]!.get(url);
    expect(again.body.type).toBe("approval_required");
    expect(again.body.approval_request_id).not.toBe(id);

    // A pending request past its expiry no longer blocks the key: the next ask replaces it.
    const second = again.body.approval_request_id as string;
    await twins.a.rt.db.approvalRequest.update({ where: { id: second }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const third = await askers[0]!.get(url);
    expect(third.body.type).toBe("approval_required");
    expect(third.body.approval_request_id).not.toBe(second);
    expect(await twins.a.rt.db.approvalRequest.findUnique({ where: { id: second }, select: { status: true, pendingKey: true } })).toEqual({ status: "expired", pendingKey: null });
    expect(approvalMails(owner.email).length - mailsBefore).toBe(3);
  });

  it("a different path or another agent is a different ask (positive control: the key is not too coarse)", async () => {
    const owner = await signUpVerified(twins.a);
    const api = client(twins.a.url, owner.token);
    const vaultId = (await api.post("/v1/vaults", { name: "pending-distinct" })).body.id as string;
    for (const p of ["a", "b"]) expect((await api.put(`/v1/vaults/${vaultId}/secrets/${p}`, { value: `v-${p}` })).status).toBe(201);
    const one = await addAgent(twins.a, owner.token);
    const two = await addAgent(twins.a, owner.token);
    for (const ag of [one, two]) await grant(api, vaultId, { principal_type: "agent", principal_id: ag.agentId, require_approval: true });
    const asks = await Promise.all([
      client(twins.a.url, one.token).get(`/v1/vaults/${vaultId}/secrets/a`),
      client(twins.b.url, one.token).get(`/v1/vaults/${vaultId}/secrets/b`),
      client(twins.b.url, two.token).get(`/v1/vaults/${vaultId}/secrets/a`),
    ]);
    expect(asks.every((r) => r.body.type === "approval_required")).toBe(true);
    expect(new Set(asks.map((r) => r.body.approval_request_id)).size).toBe(3);
    expect(await twins.a.rt.db.approvalRequest.count({ where: { orgId: owner.orgId, status: "pending" } })).toBe(3);
  });
});
