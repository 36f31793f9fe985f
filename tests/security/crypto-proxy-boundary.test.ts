import type { Hex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { agentToken, registerAgent } from "../helpers/agents";
import { type EvmNode, startEvmNode } from "../helpers/evm-node";
import { client } from "../helpers/http";
import { addAgent, addOrgUser, grant, NO_RATE_LIMITS } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * The crypto proxy's boundary: only the agent itself (or a human of its org) uses an agent's proxy;
 * an agent without crypto_proxy_enabled is refused by name; an agent sees no other agent's
 * transactions or keys, cannot change its guardrails, cannot mint or destroy signing keys, and never
 * receives key material (signing keys are addresses only; signed_tx only in its own submit answer).
 * Raw reads of private_key secrets by crypto agents are guarded in crypto-proxy-raw-keys.test.ts.
 * Every refusal sits beside the same actor doing the allowed thing.
 */
const SIGNER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const RECIPIENT = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720" as Hex;

let node: EvmNode;
let server: TestServer;
let owner: ReturnType<typeof client>;
let ownerToken: string;
let orgId: string;
let vaultId: string;
let crypto: Awaited<ReturnType<typeof addAgent>>;
let plainAgent: Awaited<ReturnType<typeof addAgent>>;
let txId: string;
const tx = { to: RECIPIENT, value: "0.01", chain: "localhost" };
const txUrl = (id: string) => `/v1/agents/${id}/transactions`;

beforeAll(async () => {
  node = await startEvmNode();
  server = await startTestServer({ env: { ...NO_RATE_LIMITS, TALON_CHAIN_RPC_URLS: `localhost=${node.url}` } });
  const acct = await signUpVerified(server);
  owner = client(server.url, acct.token);
  ownerToken = acct.token;
  orgId = acct.orgId;
  vaultId = (await owner.post("/v1/vaults", { name: "signers" })).body.id;
  await owner.put(`/v1/vaults/${vaultId}/secrets/keys/localhost-signer`, { value: SIGNER_KEY, type: "private_key" });
  crypto = await addAgent(server, ownerToken, { cryptoProxyEnabled: true });
  plainAgent = await addAgent(server, ownerToken);
  for (const a of [crypto, plainAgent]) await grant(owner, vaultId, { principal_type: "agent", principal_id: a.agentId, secret_path_pattern: "keys/**", permissions: ["read"] });
  const sent = await crypto.api.post(txUrl(crypto.agentId), tx);
  expect(sent.status).toBe(201);
  txId = sent.body.id;
}, 120_000);
afterAll(async () => {
  await server?.close();
  await node?.close();
});

describe("crypto_proxy_enabled", () => {
  it("an agent without the flag is refused every proxy call with a 403 naming it; once a human enables it, the same agent may", async () => {
    for (const [path, body] of [
      [txUrl(plainAgent.agentId), tx],
      [`${txUrl(plainAgent.agentId)}/simulate`, tx],
      [`${txUrl(plainAgent.agentId)}/simulate-bundle`, { transactions: [tx] }],
    ] as const) {
      const res = await plainAgent.api.post(path, body);
      expect(res.status).toBe(403);
      expect(res.body.detail).toContain("crypto_proxy_enabled");
    }
    expect(await server.rt.db.agentTransaction.count({ where: { agentId: plainAgent.agentId } })).toBe(0);
    // A human of the org is refused the same way for that agent: the flag is the agent's, not the caller's.
    expect((await owner.post(txUrl(plainAgent.agentId), tx)).status).toBe(403);

    const other = await registerAgent(server.url, ownerToken);
    await grant(owner, vaultId, { principal_type: "agent", principal_id: other.id, secret_path_pattern: "keys/**", permissions: ["read"] });
    const as = async () => client(server.url, await agentToken(server.url, other.id, other.apiKey));
    expect((await (await as()).post(`${txUrl(other.id)}/simulate`, tx)).status).toBe(403);
    expect((await owner.patch(`/v1/agents/${other.id}`, { crypto_proxy_enabled: true })).status).toBe(200);
    expect((await (await as()).post(`${txUrl(other.id)}/simulate`, tx)).status).toBe(200);
    // Turning it off stops the proxy again.
    expect((await owner.patch(`/v1/agents/${other.id}`, { crypto_proxy_enabled: false })).status).toBe(200);
    expect((await (await as()).post(`${txUrl(other.id)}/simulate`, tx)).status).toBe(403);
  });
});

describe("one agent's proxy is its own", () => {
  it("another agent of the org gets 404 for every route of this agent's proxy; the agent itself gets its own", async () => {
    const peer = await addAgent(server, ownerToken, { cryptoProxyEnabled: true });
    for (const res of [
      await peer.api.get(txUrl(crypto.agentId)),
      await peer.api.get(`${txUrl(crypto.agentId)}/${txId}`),
      await peer.api.post(txUrl(crypto.agentId), tx),
      await peer.api.post(`${txUrl(crypto.agentId)}/simulate`, tx),
      await peer.api.get(`/v1/agents/${crypto.agentId}/signing-keys`),
    ]) {
      expect(res.status).toBe(404);
    }
    // The peer cannot reach the transaction through its own id either.
    expect((await peer.api.get(`${txUrl(peer.agentId)}/${txId}`)).status).toBe(404);
    expect((await crypto.api.get(`${txUrl(crypto.agentId)}/${txId}`)).status).toBe(200);
    expect((await crypto.api.get(txUrl(crypto.agentId))).body.transactions.map((t: { id: string }) => t.id)).toContain(txId);
    expect((await peer.api.get(txUrl(peer.agentId))).body.transactions).toEqual([]);
  });

  it("a human of another org gets 404; a member of the agent's org may read its transactions", async () => {
    const stranger = client(server.url, (await signUpVerified(server)).token);
    expect((await stranger.get(txUrl(crypto.agentId))).status).toBe(404);
    expect((await stranger.get(`${txUrl(crypto.agentId)}/${txId}`)).status).toBe(404);
    expect((await stranger.post(txUrl(crypto.agentId), tx)).status).toBe(404);
    const member = await addOrgUser(server, orgId, "member");
    expect((await member.api.get(`${txUrl(crypto.agentId)}/${txId}`)).status).toBe(200);
  });
});

describe("humans hold the controls", () => {
  it("an agent cannot change its own guardrails or flag; the human can", async () => {
    for (const body of [{ tx_max_value_eth: "1000" }, { tx_daily_limit_eth: null }, { tx_to_allowlist: [] }, { tx_allowed_chains: [] }, { crypto_proxy_enabled: true }]) {
      expect((await crypto.api.patch(`/v1/agents/${crypto.agentId}`, body)).status).toBe(403);
    }
    expect((await owner.patch(`/v1/agents/${crypto.agentId}`, { tx_max_value_eth: "1000" })).status).toBe(200);
    const row = await server.rt.db.agent.findUnique({ where: { id: crypto.agentId } });
    expect(row!.txMaxValueEth).toBe("1000");
  });

  it("an agent can neither generate nor destroy a signing key; a signed-in human can, and the agent sees only the address", async () => {
    expect((await crypto.api.post(`/v1/agents/${crypto.agentId}/signing-keys`, { chain: "localhost" })).status).toBe(403);
    const created = await owner.post(`/v1/agents/${crypto.agentId}/signing-keys`, { chain: "localhost" });
    expect(created.status).toBe(201);
    const listed = await crypto.api.get(`/v1/agents/${crypto.agentId}/signing-keys`);
    expect(listed.status).toBe(200);
    expect(Object.keys(listed.body.signing_keys[0]).sort()).toEqual(["address", "agent_id", "chain", "created_at", "id", "signing_key_path"]);
    expect((await crypto.api.delete(`/v1/agents/${crypto.agentId}/signing-keys/${created.body.id}`)).status).toBe(403);
    expect((await owner.delete(`/v1/agents/${crypto.agentId}/signing-keys/${created.body.id}`)).status).toBe(204);
  });

  it("signed_tx leaves only in the submit answer and to humans who ask for it", async () => {
    expect((await crypto.api.get(`${txUrl(crypto.agentId)}/${txId}`)).body.signed_tx).toBeUndefined();
    expect((await crypto.api.get(`${txUrl(crypto.agentId)}/${txId}?include_signed_tx=true`)).status).toBe(403);
    expect((await owner.get(`${txUrl(crypto.agentId)}/${txId}?include_signed_tx=true`)).body.signed_tx).toMatch(/^0x02/);
  });

  it("audit events of the proxy carry chain, destination, value and hash, never key material", async () => {
    const events = (await owner.get(`/v1/audit/events?resource_id=${txId}&limit=100`)).body.events as Array<{ action: string; details: Record<string, unknown> }>;
    expect(events.map((e) => e.action)).toEqual(expect.arrayContaining(["tx.simulate", "tx.sign", "tx.broadcast", "tx.confirmed"]));
    const text = JSON.stringify(events);
    expect(text).not.toContain(SIGNER_KEY.slice(2));
    expect(text).not.toContain("signed_tx");
    expect(events.find((e) => e.action === "tx.sign")!.details).toMatchObject({ chain: "localhost", to: RECIPIENT, value_wei: "10000000000000000" });
  });
});
