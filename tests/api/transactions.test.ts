import { encodeFunctionData, getAddress, type Hex, parseEther } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { CONTRACTS, type EvmNode, startEvmNode } from "../helpers/evm-node";
import { client } from "../helpers/http";
import { addAgent, grant } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";

/** Hardhat's well-known funded account #1 — a test key, never a real one. */
const SIGNER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const SIGNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" as Hex;
const RECIPIENT = "0x90F79bf6EB2c4f870365E785982E1f101E93b906" as Hex;

let node: EvmNode;
let server: TestServer;
let human: Awaited<ReturnType<typeof signUpVerified>>;
let owner: ReturnType<typeof client>;
let agent: Awaited<ReturnType<typeof addAgent>>;
let vaultId: string;
let token: Hex;
let reverter: Hex;
const txUrl = (id = agent.agentId) => `/v1/agents/${id}/transactions`;

beforeAll(async () => {
  node = await startEvmNode();
  server = await startTestServer({ env: { TALON_CHAIN_RPC_URLS: `localhost=${node.url}` } });
  human = await signUpVerified(server);
  owner = client(server.url, human.token);
  vaultId = (await owner.post("/v1/vaults", { name: "signers" })).body.id;
  expect((await owner.put(`/v1/vaults/${vaultId}/secrets/keys/localhost-signer`, { value: SIGNER_KEY, type: "private_key" })).status).toBe(201);
  agent = await addAgent(server, human.token, { cryptoProxyEnabled: true });
  await grant(owner, vaultId, { principal_type: "agent", principal_id: agent.agentId, secret_path_pattern: "keys/**", permissions: ["read"] });
  token = await node.deploy("TestToken", { types: [{ type: "address" }, { type: "uint256" }], values: [SIGNER, parseEther("1000")] });
  reverter = await node.deploy("Reverter");
}, 120_000);

afterAll(async () => {
  await server?.close();
  await node?.close();
});

const tokenBalance = async (holder: Hex) =>
  BigInt(await node.rpc<Hex>("eth_call", [{ to: token, data: encodeFunctionData({ abi: CONTRACTS.TestToken.abi, functionName: "balanceOf", args: [holder] }) }, "latest"]));
const transferData = (to: Hex, amount: bigint) => encodeFunctionData({ abi: CONTRACTS.TestToken.abi, functionName: "transfer", args: [to, amount] });

describe("simulation", () => {
  it("simulates an ERC-20 transfer: status, gas and the token's balance changes from the call trace; nothing is signed", async () => {
    const nonceBefore = await node.rpc<Hex>("eth_getTransactionCount", [SIGNER, "pending"]);
    const res = await agent.api.post(`${txUrl()}/simulate`, { to: token, value: "0", chain: "localhost", data: transferData(RECIPIENT, parseEther("2.5")) });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "success", from: SIGNER, revert_reason: null, error: null, method: "eth_call+eth_estimateGas+debug_traceCall" });
    expect(Number(res.body.gas_used)).toBeGreaterThan(21_000);
    const changes = res.body.balance_changes as Array<Record<string, string>>;
    const before = await tokenBalance(RECIPIENT);
    expect(changes).toEqual(
      expect.arrayContaining([
        { address: SIGNER, token: getAddress(token), before: parseEther("1000").toString(), after: parseEther("997.5").toString(), change: (-parseEther("2.5")).toString() },
        { address: RECIPIENT, token: getAddress(token), before: before.toString(), after: (before + parseEther("2.5")).toString(), change: parseEther("2.5").toString() },
      ]),
    );
    expect(changes).toHaveLength(2);
    expect(await node.rpc<Hex>("eth_getTransactionCount", [SIGNER, "pending"])).toBe(nonceBefore);
  });

  it("simulates a native transfer and decodes reverts: Error(string), Panic, custom error raw", async () => {
    const native = await agent.api.post(`${txUrl()}/simulate`, { to: RECIPIENT, value: "0.25", chain: "31337" });
    expect(native.status).toBe(200);
    expect(native.body.balance_changes).toEqual(
      expect.arrayContaining([expect.objectContaining({ address: RECIPIENT, token: "native", change: parseEther("0.25").toString() })]),
    );
    const fail = encodeFunctionData({ abi: CONTRACTS.Reverter.abi, functionName: "fail" });
    const r1 = await agent.api.post(`${txUrl()}/simulate`, { to: reverter, value: "0", chain: "localhost", data: fail });
    expect(r1.body).toMatchObject({ status: "reverted", revert_reason: "Reverter: always fails", balance_changes: [] });
    const panic = encodeFunctionData({ abi: CONTRACTS.Reverter.abi, functionName: "panic", args: [0n] });
    expect((await agent.api.post(`${txUrl()}/simulate`, { to: reverter, value: "0", chain: "localhost", data: panic })).body.revert_reason).toBe("Panic(0x12)");
    const tooMuch = transferData(RECIPIENT, parseEther("5000"));
    const custom = await agent.api.post(`${txUrl()}/simulate`, { to: token, value: "0", chain: "localhost", data: tooMuch });
    // InsufficientBalance(uint256,uint256): a custom error, returned raw.
    expect(custom.body.revert_reason).toMatch(/^custom error 0x[0-9a-f]{8}[0-9a-f]{128}$/);
  });

  it("simulates a bundle and says which method it used; Hardhat has no eth_simulateV1, so state is not carried", async () => {
    const approve = encodeFunctionData({ abi: CONTRACTS.TestToken.abi, functionName: "approve", args: [RECIPIENT, 1n] });
    const res = await agent.api.post(`${txUrl()}/simulate-bundle`, {
      transactions: [
        { to: token, value: "0", chain: "localhost", data: approve },
        { to: token, value: "0", chain: "localhost", data: transferData(RECIPIENT, 5n) },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.method).toBe("eth_call per transaction (node has no eth_simulateV1)");
    expect(res.body.state_carried).toBe(false);
    expect(res.body.simulations.map((s: { status: string }) => s.status)).toEqual(["success", "success"]);
    // What "not carried" means: transferFrom does not see the approve before it (on Anvil, which has
    // eth_simulateV1, the same bundle succeeds: tests/api/transactions-bundle.test.ts).
    const approveSelf = encodeFunctionData({ abi: CONTRACTS.TestToken.abi, functionName: "approve", args: [SIGNER, 5n] });
    const transferFrom = encodeFunctionData({ abi: CONTRACTS.TestToken.abi, functionName: "transferFrom", args: [SIGNER, RECIPIENT, 5n] });
    const dependent = await agent.api.post(`${txUrl()}/simulate-bundle`, {
      transactions: [
        { to: token, value: "0", chain: "localhost", data: approveSelf },
        { to: token, value: "0", chain: "localhost", data: transferFrom },
      ],
    });
    expect(dependent.body.state_carried).toBe(false);
    expect(dependent.body.simulations.map((s: { status: string; revert_reason: string | null }) => [s.status, s.revert_reason])).toEqual([
      ["success", null],
      ["reverted", "allowance too low"],
    ]);
  });
});

describe("submit", () => {
  it("signs with the private_key secret, broadcasts, and the chain mines it: receipt ok, balance moved", async () => {
    const before = await node.balance(RECIPIENT);
    const res = await agent.api.post(txUrl(), { to: RECIPIENT, value: "1.5", chain: "localhost" });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: "confirmed", chain: "localhost", chain_id: 31337, from: SIGNER, to: RECIPIENT, value_wei: parseEther("1.5").toString(), tx_type: "eip1559", simulation_status: "success", error_message: null, explorer_url: null });
    expect(res.body.signed_tx).toMatch(/^0x02/);
    const receipt = await node.rpc<{ status: Hex; from: Hex }>("eth_getTransactionReceipt", [res.body.tx_hash]);
    expect(receipt.status).toBe("0x1");
    expect(getAddress(receipt.from)).toBe(SIGNER);
    expect((await node.balance(RECIPIENT)) - before).toBe(parseEther("1.5"));

    const got = await agent.api.get(`${txUrl()}/${res.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body.signed_tx).toBeUndefined();
    expect(got.body).toMatchObject({ id: res.body.id, status: "confirmed", tx_hash: res.body.tx_hash });
    expect((await agent.api.get(`${txUrl()}/${res.body.id}?include_signed_tx=true`)).status).toBe(403);
    expect((await owner.get(`${txUrl()}/${res.body.id}?include_signed_tx=true`)).body.signed_tx).toBe(res.body.signed_tx);
  });

  it("sends a legacy transaction when gas_price is given, and an ERC-20 transfer moves tokens on chain", async () => {
    const gasPrice = BigInt(await node.rpc<Hex>("eth_gasPrice")) * 2n;
    const before = await tokenBalance(RECIPIENT);
    const res = await agent.api.post(txUrl(), { to: token, value: "0", chain: "localhost", data: transferData(RECIPIENT, 7n), gas_price: gasPrice.toString() });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: "confirmed", tx_type: "legacy" });
    expect(res.body.signed_tx).toMatch(/^0xf8/);
    expect((await tokenBalance(RECIPIENT)) - before).toBe(7n);
  });

  it("refuses a reverting transaction with 422 and the reason; it is recorded simulation_failed and nothing is signed", async () => {
    const nonceBefore = await node.rpc<Hex>("eth_getTransactionCount", [SIGNER, "pending"]);
    const fail = encodeFunctionData({ abi: CONTRACTS.Reverter.abi, functionName: "fail" });
    const res = await agent.api.post(txUrl(), { to: reverter, value: "0", chain: "localhost", data: fail });
    expect(res.status).toBe(422);
    expect(res.body.detail).toContain("Reverter: always fails");
    const [latest] = (await agent.api.get(txUrl())).body.transactions;
    expect(latest).toMatchObject({ status: "simulation_failed", tx_hash: null, nonce: null, error_message: "Reverter: always fails" });
    expect(await node.rpc<Hex>("eth_getTransactionCount", [SIGNER, "pending"])).toBe(nonceBefore);
    // Positive control: simulate_first false signs it, the chain mines it and records the revert.
    const forced = await agent.api.post(txUrl(), { to: reverter, value: "0", chain: "localhost", data: fail, simulate_first: false, gas_limit: 100_000 });
    expect(forced.status).toBe(201);
    expect(forced.body).toMatchObject({ status: "failed", error_message: "The transaction reverted on chain", nonce: Number(BigInt(nonceBefore)) });
    expect((await node.rpc<{ status: Hex }>("eth_getTransactionReceipt", [forced.body.tx_hash])).status).toBe("0x0");
  });

  it("answers 422 naming TALON_CHAIN_RPC_URLS for a chain without an RPC URL, 400 for an unknown chain", async () => {
    const res = await agent.api.post(txUrl(), { to: RECIPIENT, value: "0.1", chain: "sepolia" });
    expect(res.status).toBe(422);
    expect(res.body.detail).toContain("TALON_CHAIN_RPC_URLS");
    expect((await agent.api.post(txUrl(), { to: RECIPIENT, value: "0.1", chain: "solana" })).status).toBe(400);
    expect((await agent.api.post(txUrl(), { to: RECIPIENT, value: "0.1e1", chain: "localhost" })).status).toBe(400);
  });

  it("replays an Idempotency-Key: same body → 200 with the first result, other body → 409", async () => {
    const key = `idem-${Date.now()}`;
    const first = await agent.api.post(txUrl(), { to: RECIPIENT, value: "0.01", chain: "localhost" }, { "Idempotency-Key": key });
    expect(first.status).toBe(201);
    const again = await agent.api.post(txUrl(), { to: RECIPIENT, value: "0.01", chain: "localhost" }, { "Idempotency-Key": key });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: first.body.id, tx_hash: first.body.tx_hash, status: "confirmed" });
    const other = await agent.api.post(txUrl(), { to: RECIPIENT, value: "0.02", chain: "localhost" }, { "Idempotency-Key": key });
    expect(other.status).toBe(409);
  });

  it("under concurrent retries of one Idempotency-Key, one request signs; the others get 409 (in flight) or the first result", async () => {
    const key = `idem-race-${Date.now()}`;
    const nonceBefore = await node.rpc<Hex>("eth_getTransactionCount", [SIGNER, "pending"]);
    const results = await Promise.all(Array.from({ length: 6 }, () => agent.api.post(txUrl(), { to: RECIPIENT, value: "0.002", chain: "localhost" }, { "Idempotency-Key": key })));
    const created = results.filter((r) => r.status === 201);
    expect(created).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 201)) {
      expect([200, 409]).toContain(r.status);
      if (r.status === 200) expect(r.body.id).toBe(created[0]!.body.id);
      else expect(r.body.detail).toContain("still in flight");
    }
    expect(Number(BigInt(await node.rpc<Hex>("eth_getTransactionCount", [SIGNER, "pending"])))).toBe(Number(BigInt(nonceBefore)) + 1);
  });

  it("lists newest first, paged", async () => {
    const all = await agent.api.get(`${txUrl()}?limit=100`);
    expect(all.status).toBe(200);
    expect(all.body.count).toBeGreaterThanOrEqual(5);
    const times = all.body.transactions.map((t: { created_at: string }) => t.created_at);
    expect([...times].sort().reverse()).toEqual(times);
    const page = await agent.api.get(`${txUrl()}?limit=2&offset=1`);
    expect(page.body.transactions.map((t: { id: string }) => t.id)).toEqual(all.body.transactions.slice(1, 3).map((t: { id: string }) => t.id));
    expect(all.body.transactions.every((t: Record<string, unknown>) => !("signed_tx" in t))).toBe(true);
  });
});

describe("guardrails", () => {
  it("refuses each rule with 403 naming rule and limit, and allows the same agent within it", async () => {
    const g = await addAgent(server, human.token, { cryptoProxyEnabled: true });
    await grant(owner, vaultId, { principal_type: "agent", principal_id: g.agentId, secret_path_pattern: "keys/**", permissions: ["read"] });
    const patch = (body: Record<string, unknown>) => owner.patch(`/v1/agents/${g.agentId}`, body);
    const send = (body: Record<string, unknown>) => g.api.post(txUrl(g.agentId), { to: RECIPIENT, value: "0.1", chain: "localhost", ...body });

    expect((await patch({ tx_allowed_chains: ["sepolia"] })).status).toBe(200);
    const chain = await send({});
    expect(chain.status).toBe(403);
    expect(chain.body.detail).toMatch(/tx_allowed_chains.*sepolia/);
    expect((await patch({ tx_allowed_chains: ["sepolia", "localhost"] })).status).toBe(200);
    expect((await send({})).status).toBe(201);
    expect((await patch({ tx_allowed_chains: [] })).status).toBe(200);

    expect((await patch({ tx_to_allowlist: [SIGNER] })).status).toBe(200);
    const dest = await send({});
    expect(dest.status).toBe(403);
    expect(dest.body.detail).toContain("tx_to_allowlist");
    expect((await send({ to: SIGNER.toLowerCase() })).status).toBe(201);
    expect((await patch({ tx_to_allowlist: [] })).status).toBe(200);

    expect((await patch({ tx_max_value_eth: "0.5" })).status).toBe(200);
    const max = await send({ value: "0.500000000000000001" });
    expect(max.status).toBe(403);
    expect(max.body.detail).toMatch(/tx_max_value_eth.*0\.5 ETH/);
    expect((await send({ value: "0.5" })).status).toBe(201);

    // 0.1 + 0.1 + 0.5 already sent in the last 24 h count against the rolling limit.
    expect((await patch({ tx_daily_limit_eth: "1.3" })).status).toBe(200);
    expect((await send({ value: "0.4" })).status).toBe(201);
    const daily = await send({ value: "0.3" });
    expect(daily.status).toBe(403);
    expect(daily.body.detail).toBe("Guardrail tx_daily_limit_eth refuses 0.3 ETH: 1.1 ETH of the 1.3 ETH rolling 24 h limit is already used");
    expect((await send({ value: "0.2" })).status).toBe(201);

    const audit = await owner.get(`/v1/audit/events?action=tx.refused&resource_id=${g.agentId}`);
    expect(audit.body.events.map((e: { details: { rule: string } }) => e.details.rule).sort()).toEqual(["tx_allowed_chains", "tx_daily_limit_eth", "tx_max_value_eth", "tx_to_allowlist"]);
  });
});

describe("HSM-native signing keys", () => {
  it("generates a key in the token, funds it, and the chain accepts its signatures; delete destroys it", async () => {
    const h = await addAgent(server, human.token, { cryptoProxyEnabled: true });
    const created = await owner.post(`/v1/agents/${h.agentId}/signing-keys`, { chain: "localhost" });
    expect(created.status).toBe(201);
    const address = created.body.address as Hex;
    expect(address).toBe(getAddress(address));
    expect(created.body.signing_key_path).toBe(`hsm:${address}`);
    await node.send({ from: node.accounts[0]!, to: address, value: parseEther("10") });

    const before = await node.balance(RECIPIENT);
    const sent = await h.api.post(txUrl(h.agentId), { to: RECIPIENT, value: "2", chain: "localhost", signing_key_path: `hsm:${address}` });
    expect(sent.status).toBe(201);
    expect(sent.body).toMatchObject({ status: "confirmed", from: address });
    const receipt = await node.rpc<{ status: Hex; from: Hex }>("eth_getTransactionReceipt", [sent.body.tx_hash]);
    expect(getAddress(receipt.from)).toBe(address);
    expect((await node.balance(RECIPIENT)) - before).toBe(parseEther("2"));
    // Without a path the agent's HSM key for the chain is the default; several in a row get consecutive nonces.
    const more = await Promise.all([0, 1, 2].map(() => h.api.post(txUrl(h.agentId), { to: RECIPIENT, value: "0.01", chain: "localhost" })));
    expect(more.map((r) => r.status)).toEqual([201, 201, 201]);
    expect(more.map((r) => r.body.nonce).sort()).toEqual([1, 2, 3]);

    const listed = await h.api.get(`/v1/agents/${h.agentId}/signing-keys`);
    expect(listed.body.signing_keys).toEqual([expect.objectContaining({ id: created.body.id, address, chain: "localhost" })]);
    expect((await h.api.delete(`/v1/agents/${h.agentId}/signing-keys/${created.body.id}`)).status).toBe(403);
    expect((await owner.delete(`/v1/agents/${h.agentId}/signing-keys/${created.body.id}`)).status).toBe(204);
    expect(await server.rt.keystore.secp256k1!.publicKey((await server.rt.db.signingKey.findMany({ where: { agentId: h.agentId } }))[0]?.keyRef ?? "0".repeat(32))).toBeNull();
    const gone = await h.api.post(txUrl(h.agentId), { to: RECIPIENT, value: "0.01", chain: "localhost", signing_key_path: `hsm:${address}` });
    expect(gone.status).toBe(422);
  });
});
