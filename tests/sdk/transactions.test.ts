/** The SDK's crypto-proxy methods, as an agent, against a real local chain. */
import { encodeFunctionData, type Hex, parseEther } from "viem";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createClient, type TalonClient } from "../../lib/sdk";
import { signUpVerified } from "../helpers/accounts";
import { CONTRACTS, type EvmNode, startEvmNode } from "../helpers/evm-node";
import { startTestServer, type TestServer } from "../helpers/server";

const SIGNER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const SIGNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" as Hex;
const RECIPIENT = "0xFABB0ac9d68B0B445fB7357272Ff202C5651694a" as Hex;

let node: EvmNode;
let server: TestServer;
let agent: TalonClient;
let agentId: string;
let token: Hex;

beforeAll(async () => {
  node = await startEvmNode();
  server = await startTestServer({ env: { TALON_CHAIN_RPC_URLS: `localhost=${node.url}` } });
  const human = createClient({ baseUrl: server.url, token: (await signUpVerified(server)).token });
  const vaultId = (await human.vaults.create({ name: "sdk-tx" })).data!.id;
  await human.secrets.set(vaultId, "keys/localhost-signer", SIGNER_KEY, { type: "private_key" });
  const created = await human.agents.create({ name: "sdk-tx", crypto_proxy_enabled: true });
  agentId = created.data!.agent.id;
  await human.access.grantAgent(vaultId, agentId, ["read"], { path: "keys/**" });
  agent = createClient({ baseUrl: server.url, agentId, apiKey: created.data!.api_key! });
  token = await node.deploy("TestToken", { types: [{ type: "address" }, { type: "uint256" }], values: [SIGNER, 1000n] });
}, 120_000);
afterAll(async () => {
  await server?.close();
  await node?.close();
});

describe("SDK: crypto proxy", () => {
  test("simulateTransaction, submitTransaction (idempotent), getTransaction, listTransactions", async () => {
    const sim = await agent.agents.simulateTransaction(agentId, { to: RECIPIENT, value: "0.05", chain: "localhost" });
    expect(sim.error).toBeNull();
    expect(sim.data).toMatchObject({ status: "success", from: SIGNER });

    const before = await node.balance(RECIPIENT);
    const sent = await agent.agents.submitTransaction(agentId, { to: RECIPIENT, value: "0.05", chain: "localhost" }, { idempotencyKey: "sdk-1" });
    expect(sent.meta.status).toBe(201);
    expect(sent.data).toMatchObject({ status: "confirmed", value_wei: parseEther("0.05").toString() });
    expect((await node.balance(RECIPIENT)) - before).toBe(parseEther("0.05"));
    const replay = await agent.agents.submitTransaction(agentId, { to: RECIPIENT, value: "0.05", chain: "localhost" }, { idempotencyKey: "sdk-1" });
    expect(replay.meta.status).toBe(200);
    expect(replay.data!.id).toBe(sent.data!.id);
    expect((await node.balance(RECIPIENT)) - before).toBe(parseEther("0.05"));

    const got = await agent.agents.getTransaction(agentId, sent.data!.id);
    expect(got.data).toMatchObject({ id: sent.data!.id, tx_hash: sent.data!.tx_hash });
    expect(got.data!.signed_tx).toBeUndefined();
    const listed = await agent.agents.listTransactions(agentId, { limit: 1 });
    expect(listed.data!.transactions.map((t) => t.id)).toEqual([sent.data!.id]);
  });

  test("simulateBundle takes a list and reports the method; refusals come back as errors", async () => {
    const approve = encodeFunctionData({ abi: CONTRACTS.TestToken.abi, functionName: "approve", args: [RECIPIENT, 10n] });
    const bundle = await agent.agents.simulateBundle(agentId, [
      { to: token, value: "0", chain: "localhost", data: approve },
      { to: RECIPIENT, value: "0.01", chain: "localhost" },
    ]);
    expect(bundle.error).toBeNull();
    expect(bundle.data!.simulations.map((s) => s.status)).toEqual(["success", "success"]);
    expect(bundle.data!.method).toContain("eth_call");
    const refused = await agent.agents.submitTransaction(agentId, { to: RECIPIENT, value: "0.01", chain: "sepolia" });
    expect(refused.meta.status).toBe(422);
    expect(refused.error!.detail).toContain("TALON_CHAIN_RPC_URLS");
  });
});
