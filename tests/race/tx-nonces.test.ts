import type { Hex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { startTwinServers, type TwinServers } from "../helpers/agents";
import { type EvmNode, startEvmNode } from "../helpers/evm-node";
import { client } from "../helpers/http";
import { addAgent, grant } from "../helpers/policies";

/** Hardhat's well-known funded account #1 — a test key. */
const SIGNER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const SIGNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" as Hex;
const RECIPIENT = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc" as Hex;

let node: EvmNode;
let twins: TwinServers;
let txUrl: string;
let apis: ReturnType<typeof client>[];

beforeAll(async () => {
  node = await startEvmNode();
  twins = await startTwinServers({ TALON_CHAIN_RPC_URLS: `localhost=${node.url}` });
  const human = await signUpVerified(twins.a);
  const owner = client(twins.a.url, human.token);
  const vaultId = (await owner.post("/v1/vaults", { name: "nonces" })).body.id as string;
  expect((await owner.put(`/v1/vaults/${vaultId}/secrets/keys/localhost-signer`, { value: SIGNER_KEY, type: "private_key" })).status).toBe(201);
  const agent = await addAgent(twins.a, human.token, { cryptoProxyEnabled: true });
  await grant(owner, vaultId, { principal_type: "agent", principal_id: agent.agentId, secret_path_pattern: "keys/**", permissions: ["read"] });
  txUrl = `/v1/agents/${agent.agentId}/transactions`;
  apis = [client(twins.a.url, agent.token), client(twins.b.url, agent.token)];
}, 120_000);
afterAll(async () => {
  await twins?.close();
  await node?.close();
});

const chainNonce = async () => Number(BigInt(await node.rpc<Hex>("eth_getTransactionCount", [SIGNER, "latest"])));

describe("nonces under concurrency", () => {
  it("gives 12 concurrent submits on two instances distinct consecutive nonces from the chain's pending count, all mined", async () => {
    // Something else sent from the address first: Talon starts from the chain's count, not from 0.
    await node.send({ from: SIGNER, to: RECIPIENT, value: 1n });
    const start = await chainNonce();
    expect(start).toBe(1);
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => apis[i % 2]!.post(txUrl, { to: RECIPIENT, value: "0.001", chain: "localhost" })));
    expect(results.map((r) => r.status)).toEqual(Array(12).fill(201));
    // A nonce that reached the node before its predecessor waits in the pool: broadcast, then mined.
    expect(results.map((r) => `${r.body.nonce}:${r.body.status}:${r.body.error_message}`).filter((s) => !/:(confirmed|broadcast):/.test(s))).toEqual([]);
    expect(results.map((r) => r.body.nonce).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => start + i));
    expect(await chainNonce()).toBe(start + 12);
    for (const r of results) expect((await apis[0]!.get(`${txUrl}/${r.body.id}`)).body.status).toBe("confirmed");
  }, 120_000);

  it("a failed broadcast gives its nonce back: the next submit uses it and leaves no gap", async () => {
    const next = await chainNonce();
    // More than the signer holds, not simulated: signed, then refused by the node at broadcast.
    const refused = await apis[0]!.post(txUrl, { to: RECIPIENT, value: "1000000", chain: "localhost", simulate_first: false, gas_limit: 21_000 });
    expect(refused.status).toBe(201);
    expect(refused.body).toMatchObject({ status: "failed", nonce: next });
    expect(refused.body.error_message).toMatch(/^Broadcast refused: /);
    const after = await apis[1]!.post(txUrl, { to: RECIPIENT, value: "0.001", chain: "localhost" });
    expect(after.body).toMatchObject({ status: "confirmed", nonce: next });
    expect(await chainNonce()).toBe(next + 1);
  }, 60_000);
});
