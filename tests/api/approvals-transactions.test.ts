import { type Hex, parseEther } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { type EvmNode, startEvmNode } from "../helpers/evm-node";
import { client } from "../helpers/http";
import { addAgent, grant } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";

/** require_approval.transaction_above_eth on a local chain: above the threshold waits for a human, at or below it does not. */
const SIGNER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"; // Hardhat's well-known test account #1
const RECIPIENT = "0x90F79bf6EB2c4f870365E785982E1f101E93b906" as Hex;

let node: EvmNode;
let server: TestServer;

beforeAll(async () => {
  node = await startEvmNode();
  server = await startTestServer({ env: { TALON_CHAIN_RPC_URLS: `localhost=${node.url}` } });
}, 120_000);
afterAll(async () => {
  await server?.close();
  await node?.close();
});

/** An owner, a vault holding the localhost signer key, and a crypto-proxy agent whose reads of it above 0.5 ETH need approval. */
async function signerAgent() {
  const human = await signUpVerified(server);
  const owner = client(server.url, human.token);
  const vaultId = (await owner.post("/v1/vaults", { name: "signers" })).body.id as string;
  expect((await owner.put(`/v1/vaults/${vaultId}/secrets/keys/localhost-signer`, { value: SIGNER_KEY, type: "private_key" })).status).toBe(201);
  const agent = await addAgent(server, human.token, { cryptoProxyEnabled: true });
  await grant(owner, vaultId, { principal_type: "agent", principal_id: agent.agentId, secret_path_pattern: "keys/**", permissions: ["read"], require_approval: { transaction_above_eth: "0.5" } });
  return { owner, agent, vaultId };
}

describe("transaction approval threshold", () => {
  it("a transaction above transaction_above_eth answers approval_required; approved once, it is signed once", async () => {
    const { owner, agent, vaultId } = await signerAgent();
    const url = `/v1/agents/${agent.agentId}/transactions`;

    const small = await agent.api.post(url, { to: RECIPIENT, value: "0.5", chain: "localhost" });
    expect(small.status).toBe(201);

    const big = await agent.api.post(url, { to: RECIPIENT, value: "0.75", chain: "localhost" }, { "X-Approval-Reason": "pay the invoice" });
    expect(big.status).toBe(403);
    expect(big.body.type).toBe("approval_required");
    const id = big.body.approval_request_id as string;
    const req = await owner.get(`/v1/approvals/${id}`);
    expect(req.body).toMatchObject({ action: "transaction", status: "pending", reason: "pay the invoice", vault_id: vaultId });
    expect(req.body.detail).toMatchObject({ chain: "localhost", value_eth: "0.75", threshold_eth: "0.5" });
    expect(await server.rt.db.agentTransaction.count({ where: { agentId: agent.agentId, valueWei: parseEther("0.75").toString() } })).toBe(0);

    // Another value is another request: the approval is for what was asked.
    const other = await agent.api.post(url, { to: RECIPIENT, value: "0.8", chain: "localhost" });
    expect(other.body.approval_request_id).not.toBe(id);

    expect((await owner.post(`/v1/approvals/${id}/approve`, {})).status).toBe(200);
    const signed = await agent.api.post(url, { to: RECIPIENT, value: "0.75", chain: "localhost" });
    expect(signed.status).toBe(201);
    const again = await agent.api.post(url, { to: RECIPIENT, value: "0.75", chain: "localhost" });
    expect(again.status).toBe(403);
    expect(again.body.type).toBe("approval_required");
  });

  it("an approved transaction refused by the daily limit gets its approval back; signed, it is spent", async () => {
    const { owner, agent } = await signerAgent();
    expect((await owner.patch(`/v1/agents/${agent.agentId}`, { tx_daily_limit_eth: "0.7" })).status).toBe(200);
    const url = `/v1/agents/${agent.agentId}/transactions`;
    const send = () => agent.api.post(url, { to: RECIPIENT, value: "0.75", chain: "localhost" });

    const asked = await send();
    expect(asked.body.type).toBe("approval_required");
    const id = asked.body.approval_request_id as string;
    expect((await owner.post(`/v1/approvals/${id}/approve`, {})).status).toBe(200);

    // Over the daily limit after the approval was taken: refused, nothing signed, the approval returned.
    const over = await send();
    expect(over.status).toBe(403);
    expect(over.body.detail).toContain("tx_daily_limit_eth");
    expect(await server.rt.db.approvalRequest.findUnique({ where: { id }, select: { status: true, usesLeft: true } })).toEqual({ status: "approved", usesLeft: 1 });
    expect(await server.rt.db.auditEvent.count({ where: { action: "approval.returned", resourceId: id } })).toBe(1);

    expect((await owner.patch(`/v1/agents/${agent.agentId}`, { tx_daily_limit_eth: "2" })).status).toBe(200);
    expect((await send()).status).toBe(201);
    expect(await server.rt.db.approvalRequest.findUnique({ where: { id }, select: { status: true, usesLeft: true } })).toEqual({ status: "used", usesLeft: 0 });
    const again = await send();
    expect(again.body.type).toBe("approval_required");
    expect(again.body.approval_request_id).not.toBe(id);
  });
});
