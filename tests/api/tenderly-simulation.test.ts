import { randomBytes } from "node:crypto";
import { encodeFunctionData, getAddress, type Hex, parseEther } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { type AnvilNode, startAnvilNode } from "../helpers/anvil-node";
import { CONTRACTS } from "../helpers/evm-node";
import { client } from "../helpers/http";
import { addAgent, grant } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";
import { captureStderr, type StderrCapture } from "../helpers/stderr";
import { startRecordingRelay, startTenderlyStandIn, type TenderlyStandIn } from "../helpers/tenderly-stand-in";

/**
 * Simulation through Tenderly (TALON_TENDERLY_*) against a loopback stand-in on Tenderly's documented
 * request and response shapes, whose answers come from the real Anvil node (eth_simulateV1): status,
 * gas, revert reasons and asset changes are the chain's. The chain's node is reached through a
 * recording relay so the test sees every request that left Talon, to Tenderly or to the node.
 * Tenderly failing (503, a cut connection, a wrong key) falls back to the node with a warning; the
 * access key is sent in X-Access-Key to Tenderly and appears nowhere else.
 */

/** Anvil's and Hardhat's well-known funded account #1 — a test key, never a real one. */
const SIGNER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const SIGNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" as Hex;
const RECIPIENT = "0x90F79bf6EB2c4f870365E785982E1f101E93b906" as Hex;
const ACCESS_KEY = `tdly-canary-${randomBytes(12).toString("hex")}`;
const ACCOUNT = "talon-tests";
const PROJECT = "sim";

let node: AnvilNode;
let relay: Awaited<ReturnType<typeof startRecordingRelay>>;
let tenderly: TenderlyStandIn;
let server: TestServer;
let agent: Awaited<ReturnType<typeof addAgent>>;
let token: Hex;
let reverter: Hex;
let url: string;
const answers: string[] = [];
let stderr: StderrCapture;

const post = async (path: string, body: unknown) => {
  const res = await agent.api.post(`${url}${path}`, body);
  answers.push(res.text);
  return res;
};
const tokenCall = (functionName: "approve" | "transfer" | "transferFrom", args: unknown[]) => ({
  to: token,
  value: "0",
  chain: "localhost",
  data: encodeFunctionData({ abi: CONTRACTS.TestToken.abi, functionName, args } as Parameters<typeof encodeFunctionData>[0]),
});
const tokenBalance = async (who: Hex) =>
  BigInt(await node.rpc<Hex>("eth_call", [{ to: token, data: encodeFunctionData({ abi: CONTRACTS.TestToken.abi, functionName: "balanceOf", args: [who] }) }, "latest"]));

beforeAll(async () => {
  stderr = captureStderr();
  node = await startAnvilNode();
  relay = await startRecordingRelay(node.url);
  tenderly = await startTenderlyStandIn({ nodeUrl: node.url, accessKey: ACCESS_KEY, account: ACCOUNT, project: PROJECT });
  server = await startTestServer({
    env: {
      TALON_CHAIN_RPC_URLS: `localhost=${relay.url}`,
      TALON_TENDERLY_ACCESS_KEY: ACCESS_KEY,
      TALON_TENDERLY_ACCOUNT: ACCOUNT,
      TALON_TENDERLY_PROJECT: PROJECT,
      TALON_TENDERLY_API_URL: tenderly.url,
      TALON_TENDERLY_ALLOW_PRIVATE: "1",
      TALON_LOG_LEVEL: "debug",
    },
  });
  const human = await signUpVerified(server);
  const owner = client(server.url, human.token);
  const vaultId = (await owner.post("/v1/vaults", { name: "signers" })).body.id as string;
  expect((await owner.put(`/v1/vaults/${vaultId}/secrets/keys/localhost-signer`, { value: SIGNER_KEY, type: "private_key" })).status).toBe(201);
  agent = await addAgent(server, human.token, { cryptoProxyEnabled: true });
  await grant(owner, vaultId, { principal_type: "agent", principal_id: agent.agentId, secret_path_pattern: "keys/**", permissions: ["read"] });
  token = await node.deploy("TestToken", { types: [{ type: "address" }, { type: "uint256" }], values: [SIGNER, parseEther("1000")] });
  reverter = await node.deploy("Reverter");
  url = `/v1/agents/${agent.agentId}/transactions`;
}, 120_000);

afterAll(async () => {
  stderr?.restore();
  await server?.close();
  await tenderly?.close();
  await relay?.close();
  await node?.close();
});

describe("simulation through Tenderly", () => {
  it("a token transfer: status, gas and balance changes from Tenderly's answer, gas equal to the mined transaction's", async () => {
    tenderly.requests.length = 0;
    const before = await tokenBalance(SIGNER);
    const res = await post("/simulate", tokenCall("transfer", [RECIPIENT, 7n]));
    expect(res.status).toBe(200);
    const t = getAddress(token);
    expect(res.body).toMatchObject({ method: "tenderly", status: "success", from: SIGNER, revert_reason: null, error: null });
    expect(res.body.warnings).toBeUndefined();
    expect(res.body.balance_changes).toEqual([
      { address: SIGNER, token: t, before: before.toString(), after: (before - 7n).toString(), change: "-7" },
      { address: RECIPIENT, token: t, before: "0", after: "7", change: "7" },
    ]);
    // Tenderly got the documented request: path with account and project, key in X-Access-Key.
    expect(tenderly.requests).toHaveLength(1);
    const sent = tenderly.requests[0]!;
    expect(sent.path).toBe(`/api/v1/account/${ACCOUNT}/project/${PROJECT}/simulate`);
    expect(sent.headers["x-access-key"]).toBe(ACCESS_KEY);
    expect(JSON.parse(sent.body)).toMatchObject({ network_id: "31337", from: SIGNER.toLowerCase(), to: token.toLowerCase(), value: "0", gas_price: "0", estimate_gas: true });
    // The same transaction really sent uses the gas the simulation reported.
    const hash = await node.rpc<Hex>("eth_sendTransaction", [{ from: SIGNER, to: token, data: tokenCall("transfer", [RECIPIENT, 7n]).data }]);
    const receipt = await node.receipt<{ gasUsed: Hex; status: Hex }>(hash);
    expect(receipt.status).toBe("0x1");
    expect(res.body.gas_used).toBe(BigInt(receipt.gasUsed).toString());
    const audit = await server.rt.db.auditEvent.findFirst({ where: { action: "tx.simulate", resourceId: agent.agentId }, orderBy: { createdAt: "desc" } });
    expect(JSON.parse(audit!.details as unknown as string)).toMatchObject({ method: "tenderly", status: "success" });
  });

  it("native value: the coin's movement from Tenderly's asset changes, before read from the chain", async () => {
    const recipientEth = BigInt(await node.rpc<Hex>("eth_getBalance", [RECIPIENT, "latest"]));
    const res = await post("/simulate", { to: RECIPIENT, value: "0.25", chain: "localhost" });
    expect(res.body).toMatchObject({ method: "tenderly", status: "success", gas_used: "21000" });
    expect(res.body.balance_changes).toContainEqual({ address: RECIPIENT, token: "native", before: recipientEth.toString(), after: (recipientEth + parseEther("0.25")).toString(), change: parseEther("0.25").toString() });
  });

  it("a revert: the reason decoded as on the node path (Error(string), Panic, custom error raw), nothing moved", async () => {
    const fail = await post("/simulate", { to: reverter, value: "0", chain: "localhost", data: encodeFunctionData({ abi: CONTRACTS.Reverter.abi, functionName: "fail" }) });
    expect(fail.status).toBe(200);
    expect(fail.body).toMatchObject({ method: "tenderly", status: "reverted", revert_reason: "Reverter: always fails", balance_changes: [], error: null });
    const panic = await post("/simulate", { to: reverter, value: "0", chain: "localhost", data: encodeFunctionData({ abi: CONTRACTS.Reverter.abi, functionName: "panic", args: [0n] }) });
    expect(panic.body).toMatchObject({ method: "tenderly", status: "reverted", revert_reason: "Panic(0x12)" });
    const custom = await post("/simulate", tokenCall("transfer", [RECIPIENT, parseEther("5000")]));
    expect(custom.body.status).toBe("reverted");
    expect(custom.body.revert_reason).toMatch(/^custom error 0x[0-9a-f]{8}/);
  });

  it("submit's simulate_first stays on the chain's node: a reverting submit is refused without asking Tenderly", async () => {
    tenderly.requests.length = 0;
    const nonceBefore = await node.rpc<Hex>("eth_getTransactionCount", [SIGNER, "pending"]);
    const res = await post("", { to: reverter, value: "0", chain: "localhost", data: encodeFunctionData({ abi: CONTRACTS.Reverter.abi, functionName: "fail" }) });
    expect(res.status).toBe(422);
    expect(res.body.detail).toContain("Reverter: always fails");
    expect(tenderly.requests).toHaveLength(0);
    expect(await node.rpc<Hex>("eth_getTransactionCount", [SIGNER, "pending"])).toBe(nonceBefore);
  });

  it("a bundle carries state through Tenderly: approve then transferFrom succeeds, befores include earlier moves, nothing signed", async () => {
    tenderly.requests.length = 0;
    const nonceBefore = await node.rpc<Hex>("eth_getTransactionCount", [SIGNER, "pending"]);
    const signerTokens = await tokenBalance(SIGNER);
    const recipientTokens = await tokenBalance(RECIPIENT);
    const res = await post("/simulate-bundle", { transactions: [tokenCall("approve", [SIGNER, 5n]), tokenCall("transferFrom", [SIGNER, RECIPIENT, 5n]), tokenCall("transfer", [RECIPIENT, 1n])] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ method: "tenderly", state_carried: true });
    expect(res.body.warnings).toBeUndefined();
    const sims = res.body.simulations as Array<Record<string, unknown>>;
    expect(sims.map((s) => [s.status, s.method])).toEqual(Array(3).fill(["success", "tenderly"]));
    const t = getAddress(token);
    expect(sims[0]!.balance_changes).toEqual([]);
    expect(sims[1]!.balance_changes).toEqual([
      { address: SIGNER, token: t, before: signerTokens.toString(), after: (signerTokens - 5n).toString(), change: "-5" },
      { address: RECIPIENT, token: t, before: recipientTokens.toString(), after: (recipientTokens + 5n).toString(), change: "5" },
    ]);
    expect(sims[2]!.balance_changes).toEqual([
      { address: SIGNER, token: t, before: (signerTokens - 5n).toString(), after: (signerTokens - 6n).toString(), change: "-1" },
      { address: RECIPIENT, token: t, before: (recipientTokens + 5n).toString(), after: (recipientTokens + 6n).toString(), change: "1" },
    ]);
    expect(tenderly.requests.map((r) => r.path)).toEqual([`/api/v1/account/${ACCOUNT}/project/${PROJECT}/simulate-bundle`]);
    expect(JSON.parse(tenderly.requests[0]!.body).simulations).toHaveLength(3);
    expect(await node.rpc<Hex>("eth_getTransactionCount", [SIGNER, "pending"])).toBe(nonceBefore);
    expect(await tokenBalance(RECIPIENT)).toBe(recipientTokens);
  });

  it("a bundle stops at its first failure, as Tenderly does: the rest are reported not simulated", async () => {
    const res = await post("/simulate-bundle", { transactions: [tokenCall("transferFrom", [SIGNER, RECIPIENT, 5n]), tokenCall("transfer", [RECIPIENT, 1n])] });
    expect(res.status).toBe(200);
    const [first, second] = res.body.simulations;
    expect(first).toMatchObject({ status: "reverted", revert_reason: "allowance too low", method: "tenderly" });
    expect(second).toMatchObject({ status: "error", balance_changes: [], method: "tenderly" });
    expect(second.error).toContain("Not simulated");
  });
});

describe("Tenderly failing falls back to the chain's node with a warning", () => {
  it("HTTP 503: the node simulates, the same numbers, a warning names the failure; the audit event says fallback", async () => {
    const viaTenderly = await post("/simulate", tokenCall("transfer", [RECIPIENT, 3n]));
    tenderly.mode = "http-503";
    try {
      const res = await post("/simulate", tokenCall("transfer", [RECIPIENT, 3n]));
      expect(res.status).toBe(200);
      expect(res.body.method).not.toBe("tenderly");
      expect(res.body.method).toMatch(/^eth_call/);
      expect(res.body.warnings).toEqual(["Tenderly answered HTTP 503, service_unavailable; simulated on the chain's own node instead"]);
      expect(res.body.status).toBe("success");
      expect(res.body.balance_changes).toEqual(viaTenderly.body.balance_changes);
      expect(Number(res.body.gas_used)).toBeGreaterThanOrEqual(Number(viaTenderly.body.gas_used));
      const audit = await server.rt.db.auditEvent.findFirst({ where: { action: "tx.simulate", resourceId: agent.agentId }, orderBy: { createdAt: "desc" } });
      expect(JSON.parse(audit!.details as unknown as string)).toMatchObject({ method: res.body.method, fallback: true });
      const bundle = await post("/simulate-bundle", { transactions: [tokenCall("approve", [SIGNER, 5n]), tokenCall("transferFrom", [SIGNER, RECIPIENT, 5n])] });
      expect(bundle.status).toBe(200);
      expect(bundle.body).toMatchObject({ method: "eth_simulateV1", state_carried: true, warnings: ["Tenderly answered HTTP 503, service_unavailable; simulated on the chain's own node instead"] });
      expect(bundle.body.simulations.map((s: { status: string }) => s.status)).toEqual(["success", "success"]);
    } finally {
      tenderly.mode = "ok";
    }
  });

  it("a cut connection: the node simulates, the warning says Tenderly could not be reached", async () => {
    tenderly.mode = "hang-up";
    try {
      const res = await post("/simulate", { to: reverter, value: "0", chain: "localhost", data: encodeFunctionData({ abi: CONTRACTS.Reverter.abi, functionName: "fail" }) });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: "reverted", revert_reason: "Reverter: always fails" });
      expect(res.body.method).not.toBe("tenderly");
      expect(res.body.warnings).toHaveLength(1);
      expect(res.body.warnings[0]).toMatch(/^Tenderly could not be reached( \([A-Z_]+\))?; simulated on the chain's own node instead$/);
    } finally {
      tenderly.mode = "ok";
    }
    // Positive control: Tenderly back, Tenderly answers again.
    expect((await post("/simulate", tokenCall("transfer", [RECIPIENT, 1n]))).body).toMatchObject({ method: "tenderly", status: "success" });
  });

  it("a key Tenderly refuses (401, e.g. revoked): fallback, and the warning names the status and slug, never the key", async () => {
    tenderly.accessKey = `${ACCESS_KEY}-rotated`;
    try {
      const res = await post("/simulate", { to: RECIPIENT, value: "0.01", chain: "localhost" });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: "success", warnings: ["Tenderly answered HTTP 401, invalid_api_key; simulated on the chain's own node instead"] });
      expect(res.body.method).not.toBe("tenderly");
      expect(tenderly.requests.at(-1)!.headers["x-access-key"]).toBe(ACCESS_KEY);
    } finally {
      tenderly.accessKey = ACCESS_KEY;
    }
  });
});

describe("the access key", () => {
  it("went to Tenderly in X-Access-Key only: not in a URL, body or other header, not to the chain's node, not in any answer, audit event or log line", async () => {
    expect(tenderly.requests.length).toBeGreaterThan(5);
    for (const r of tenderly.requests) {
      expect(r.headers["x-access-key"]).toBe(ACCESS_KEY);
      const { "x-access-key": _sent, ...otherHeaders } = r.headers;
      expect(JSON.stringify(otherHeaders) + r.path + r.body).not.toContain(ACCESS_KEY);
    }
    // The chain's node saw plenty (balances, eth_call, traces) and never the key.
    expect(relay.requests.length).toBeGreaterThan(5);
    expect(JSON.stringify(relay.requests)).not.toContain(ACCESS_KEY);
    expect(answers.length).toBeGreaterThan(10);
    for (const a of answers) expect(a).not.toContain(ACCESS_KEY);
    const events = await server.rt.db.auditEvent.findMany();
    expect(events.length).toBeGreaterThan(5);
    expect(JSON.stringify(events)).not.toContain(ACCESS_KEY);
    // Logs were on (debug) and the fallbacks were logged; none carries the key.
    const logged = stderr.text();
    expect(logged).toContain("tenderly simulation failed");
    expect(logged).not.toContain(ACCESS_KEY);
  });
});
