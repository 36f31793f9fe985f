import { encodeFunctionData, getAddress, type Hex, parseEther } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { type AnvilNode, startAnvilNode } from "../helpers/anvil-node";
import { CONTRACTS } from "../helpers/evm-node";
import { client } from "../helpers/http";
import { addAgent, grant } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * Bundle simulation on a node that has eth_simulateV1 (a real Anvil node; Hardhat's EDR answers
 * "not supported", and that fallback is tested in transactions.test.ts): state carries from one
 * transaction to the next — transferFrom succeeds only because the approve before it ran — balance
 * changes come from the simulated logs with each `before` including the earlier transactions, and
 * nothing is signed or sent.
 */

/** Anvil's and Hardhat's well-known funded account #1 — a test key, never a real one. */
const SIGNER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const SIGNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" as Hex;
const RECIPIENT = "0x90F79bf6EB2c4f870365E785982E1f101E93b906" as Hex;

let node: AnvilNode;
let server: TestServer;
let agent: Awaited<ReturnType<typeof addAgent>>;
let token: Hex;
let url: string;

beforeAll(async () => {
  node = await startAnvilNode();
  server = await startTestServer({ env: { TALON_CHAIN_RPC_URLS: `localhost=${node.url}` } });
  const human = await signUpVerified(server);
  const owner = client(server.url, human.token);
  const vaultId = (await owner.post("/v1/vaults", { name: "signers" })).body.id as string;
  expect((await owner.put(`/v1/vaults/${vaultId}/secrets/keys/localhost-signer`, { value: SIGNER_KEY, type: "private_key" })).status).toBe(201);
  agent = await addAgent(server, human.token, { cryptoProxyEnabled: true });
  await grant(owner, vaultId, { principal_type: "agent", principal_id: agent.agentId, secret_path_pattern: "keys/**", permissions: ["read"] });
  token = await node.deploy("TestToken", { types: [{ type: "address" }, { type: "uint256" }], values: [SIGNER, parseEther("1000")] });
  url = `/v1/agents/${agent.agentId}/transactions`;
}, 120_000);

afterAll(async () => {
  await server?.close();
  await node?.close();
});

const call = (functionName: "approve" | "transfer" | "transferFrom", args: unknown[]) => ({
  to: token,
  value: "0",
  chain: "localhost",
  data: encodeFunctionData({ abi: CONTRACTS.TestToken.abi, functionName, args } as Parameters<typeof encodeFunctionData>[0]),
});

describe("bundle simulation with eth_simulateV1 (Anvil)", () => {
  it("carries state: approve then transferFrom succeeds, each before includes the earlier moves, nothing signed", async () => {
    const nonceBefore = await node.rpc<Hex>("eth_getTransactionCount", [SIGNER, "pending"]);
    const recipientEth = BigInt(await node.rpc<Hex>("eth_getBalance", [RECIPIENT, "latest"]));
    const res = await agent.api.post(`${url}/simulate-bundle`, {
      transactions: [
        call("approve", [SIGNER, 5n]),
        call("transferFrom", [SIGNER, RECIPIENT, 5n]),
        call("transfer", [RECIPIENT, 1n]),
        { to: RECIPIENT, value: "0.5", chain: "localhost" },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ method: "eth_simulateV1", state_carried: true });
    const sims = res.body.simulations as Array<Record<string, unknown>>;
    expect(sims.map((s) => [s.status, s.method])).toEqual(Array(4).fill(["success", "eth_simulateV1"]));
    const t = getAddress(token);
    const all = parseEther("1000");
    expect(sims[0]!.balance_changes).toEqual([]);
    expect(sims[1]!.balance_changes).toEqual([
      { address: SIGNER, token: t, before: all.toString(), after: (all - 5n).toString(), change: "-5" },
      { address: RECIPIENT, token: t, before: "0", after: "5", change: "5" },
    ]);
    expect(sims[2]!.balance_changes).toEqual([
      { address: SIGNER, token: t, before: (all - 5n).toString(), after: (all - 6n).toString(), change: "-1" },
      { address: RECIPIENT, token: t, before: "5", after: "6", change: "1" },
    ]);
    expect(sims[3]!.balance_changes).toEqual(
      expect.arrayContaining([{ address: RECIPIENT, token: "native", before: recipientEth.toString(), after: (recipientEth + parseEther("0.5")).toString(), change: parseEther("0.5").toString() }]),
    );
    expect(Number(sims[1]!.gas_used)).toBeGreaterThan(21_000);
    // Nothing was signed or sent: the nonce, the allowance and the balances on chain are as before.
    expect(await node.rpc<Hex>("eth_getTransactionCount", [SIGNER, "pending"])).toBe(nonceBefore);
    const allowance = await node.rpc<Hex>("eth_call", [{ to: token, data: encodeFunctionData({ abi: CONTRACTS.TestToken.abi, functionName: "allowance", args: [SIGNER, SIGNER] }) }, "latest"]);
    expect(BigInt(allowance)).toBe(0n);
    expect((await server.rt.db.agentTransaction.count({ where: { agentId: agent.agentId } }))).toBe(0);
    const audit = await server.rt.db.auditEvent.findFirst({ where: { action: "tx.simulate_bundle", resourceId: agent.agentId } });
    expect(JSON.parse(audit!.details as unknown as string)).toMatchObject({ method: "eth_simulateV1", transactions: 4, statuses: "success,success,success,success" });
  });

  it("without the approve, transferFrom reverts — alone and in a bundle — with its reason", async () => {
    const alone = await agent.api.post(`${url}/simulate`, call("transferFrom", [SIGNER, RECIPIENT, 5n]));
    expect(alone.body).toMatchObject({ status: "reverted", revert_reason: "allowance too low" });
    const bundle = await agent.api.post(`${url}/simulate-bundle`, { transactions: [call("transfer", [RECIPIENT, 1n]), call("transferFrom", [SIGNER, RECIPIENT, 5n])] });
    expect(bundle.status).toBe(200);
    expect(bundle.body.simulations.map((s: { status: string }) => s.status)).toEqual(["success", "reverted"]);
    expect(bundle.body.simulations[1]).toMatchObject({ revert_reason: "allowance too low", balance_changes: [] });
  });
});
