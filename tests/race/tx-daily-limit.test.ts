import { type Hex, parseEther } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { startTwinServers, type TwinServers } from "../helpers/agents";
import { type EvmNode, startEvmNode } from "../helpers/evm-node";
import { client } from "../helpers/http";
import { addAgent, grant } from "../helpers/policies";

/** Hardhat's well-known funded account #1 — a test key. */
const SIGNER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const SIGNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" as Hex;
const RECIPIENT = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65" as Hex;

let node: EvmNode;
let twins: TwinServers;

beforeAll(async () => {
  node = await startEvmNode();
  twins = await startTwinServers({ TALON_CHAIN_RPC_URLS: `localhost=${node.url}` });
}, 120_000);
afterAll(async () => {
  await twins?.close();
  await node?.close();
});

describe("tx_daily_limit_eth under concurrency", () => {
  it("of 20 concurrent submits across two instances on one database, exactly those that fit the rolling limit are signed", async () => {
    const human = await signUpVerified(twins.a);
    const owner = client(twins.a.url, human.token);
    const vaultId = (await owner.post("/v1/vaults", { name: "race" })).body.id as string;
    expect((await owner.put(`/v1/vaults/${vaultId}/secrets/keys/localhost-signer`, { value: SIGNER_KEY, type: "private_key" })).status).toBe(201);
    const agent = await addAgent(twins.a, human.token, { cryptoProxyEnabled: true });
    await grant(owner, vaultId, { principal_type: "agent", principal_id: agent.agentId, secret_path_pattern: "keys/**", permissions: ["read"] });
    expect((await owner.patch(`/v1/agents/${agent.agentId}`, { tx_daily_limit_eth: "0.75" })).status).toBe(200);

    const nonceBefore = Number(BigInt(await node.rpc<Hex>("eth_getTransactionCount", [SIGNER, "latest"])));
    const balanceBefore = await node.balance(RECIPIENT);
    const apis = [client(twins.a.url, agent.token), client(twins.b.url, agent.token)];
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => apis[i % 2]!.post(`/v1/agents/${agent.agentId}/transactions`, { to: RECIPIENT, value: "0.1", chain: "localhost" })),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(7);
    expect(statuses.filter((s) => s === 403)).toHaveLength(13);
    for (const r of results.filter((x) => x.status === 403)) expect(r.body.detail).toContain("tx_daily_limit_eth");
    const signed = results.filter((r) => r.status === 201);
    expect(signed.every((r) => r.body.status === "confirmed" || r.body.status === "broadcast")).toBe(true);
    // Exactly what fit reached the chain, with consecutive nonces.
    expect(signed.map((r) => r.body.nonce).sort((a, b) => a - b)).toEqual(Array.from({ length: 7 }, (_, i) => nonceBefore + i));
    for (const r of signed) expect((await apis[0]!.get(`/v1/agents/${agent.agentId}/transactions/${r.body.id}`)).body.status).toBe("confirmed");
    expect((await node.balance(RECIPIENT)) - balanceBefore).toBe(parseEther("0.7"));
    expect(await twins.a.rt.db.agentTransaction.count({ where: { agentId: agent.agentId, countsToLimit: true } })).toBe(7);
    // Positive control: what is left of the limit (0.05) still goes through.
    expect((await apis[1]!.post(`/v1/agents/${agent.agentId}/transactions`, { to: RECIPIENT, value: "0.05", chain: "localhost" })).status).toBe(201);
  }, 120_000);
});
