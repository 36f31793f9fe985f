import type { Hex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { type EvmNode, startEvmNode } from "../helpers/evm-node";
import { client } from "../helpers/http";
import { addAgent, grant } from "../helpers/policies";
import { type RpcFaultProxy, startRpcFaultProxy } from "../helpers/rpc-fault-proxy";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * What a broadcast that does not go through leaves behind, against a real Hardhat node reached
 * through a real loopback relay that cuts the network at the chosen step (tests/helpers/rpc-fault-proxy):
 * never sent (connection refused) → failed, nonce given back; sent but unanswered (connection cut,
 * timeout, node stopped) → still signed with an "outcome unknown" error and its nonce held, settled
 * later from the chain (mined, re-sent, or its nonce taken by another transaction).
 */

/** Hardhat's well-known funded account #1 — a test key, never a real one. */
const SIGNER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const SIGNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" as Hex;
const RECIPIENT = "0x90F79bf6EB2c4f870365E785982E1f101E93b906" as Hex;

let node: EvmNode;
let proxy: RpcFaultProxy;
let server: TestServer;
let agent: Awaited<ReturnType<typeof addAgent>>;
let txUrl: string;

beforeAll(async () => {
  node = await startEvmNode();
  proxy = await startRpcFaultProxy(node.url);
  server = await startTestServer({ env: { TALON_CHAIN_RPC_URLS: `localhost=${proxy.url}` } });
  const human = await signUpVerified(server);
  const owner = client(server.url, human.token);
  const vaultId = (await owner.post("/v1/vaults", { name: "signers" })).body.id as string;
  expect((await owner.put(`/v1/vaults/${vaultId}/secrets/keys/localhost-signer`, { value: SIGNER_KEY, type: "private_key" })).status).toBe(201);
  agent = await addAgent(server, human.token, { cryptoProxyEnabled: true });
  await grant(owner, vaultId, { principal_type: "agent", principal_id: agent.agentId, secret_path_pattern: "keys/**", permissions: ["read"] });
  txUrl = `/v1/agents/${agent.agentId}/transactions`;
}, 120_000);

afterAll(async () => {
  await server?.close();
  await proxy?.close();
  await node?.close();
});

const count = async (tag: "latest" | "pending") => Number(BigInt(await node.rpc<Hex>("eth_getTransactionCount", [SIGNER, tag])));
const send = (value = "0.001") => agent.api.post(txUrl, { to: RECIPIENT, value, chain: "localhost" });
const cursor = async () => {
  const c = await server.rt.db.nonceCursor.findUniqueOrThrow({ where: { chainId_address: { chainId: 31337, address: SIGNER } } });
  return { next: c.next, released: JSON.parse(c.released) as number[] };
};
const minedHash = async (hash: Hex) => {
  for (let i = 0; i < 100; i++) {
    const r = await node.rpc<{ status: Hex } | null>("eth_getTransactionReceipt", [hash]);
    if (r) return r.status;
    await new Promise((res) => setTimeout(res, 50));
  }
  return null;
};
/** GET until the row leaves `from` (the chain mines every 100 ms). */
const settled = async (id: string, from: string[]) => {
  let body: Record<string, unknown> = {};
  for (let i = 0; i < 40; i++) {
    body = (await agent.api.get(`${txUrl}/${id}`)).body;
    if (!from.includes(body.status as string)) return body;
    await new Promise((res) => setTimeout(res, 100));
  }
  return body;
};

describe("broadcast outcomes", () => {
  it("an RPC URL to a closed port fails the submit before signing: 502, row failed, nothing signed", async () => {
    // Positive control first: the same agent sends through the relay.
    const ok = await send();
    expect(ok.body).toMatchObject({ status: "confirmed", nonce: 0 });
    await proxy.stop();
    try {
      const res = await send();
      expect(res.status).toBe(502);
      expect(res.body.detail).toMatch(/could not be reached/);
      expect(res.body.detail).not.toContain(proxy.url);
      const [latest] = (await agent.api.get(txUrl)).body.transactions;
      expect(latest).toMatchObject({ status: "failed", tx_hash: null, nonce: null });
    } finally {
      await proxy.start();
    }
    expect(await cursor()).toEqual({ next: 1, released: [] });
  });

  it("never sent (the RPC endpoint refuses connections after the nonce read): failed, nonce given back, no gap", async () => {
    const n = await count("pending");
    proxy.arm("eth_getTransactionCount", "close-after");
    const res = await send();
    await proxy.start();
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: "failed", nonce: n });
    expect(res.body.error_message).toMatch(/^Broadcast failed: .*could not be reached for eth_sendRawTransaction; the transaction was not sent$/);
    expect(await minedHash(res.body.tx_hash)).toBeNull();
    expect(await cursor()).toEqual({ next: n, released: [] });
    const next = await send();
    expect(next.body).toMatchObject({ status: "confirmed", nonce: n });
    expect(await count("latest")).toBe(n + 1);
  });

  it("sent but the answer is lost: stays signed, nonce held; GET settles it from its receipt", async () => {
    const n = await count("pending");
    proxy.arm("eth_sendRawTransaction", "forward-then-drop");
    const res = await send();
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: "signed", nonce: n });
    expect(res.body.error_message).toMatch(/^Broadcast outcome unknown: .*did not answer eth_sendRawTransaction; the nonce stays held/);
    expect(await minedHash(res.body.tx_hash)).toBe("0x1");
    expect(await cursor()).toEqual({ next: n + 1, released: [] });
    const got = await settled(res.body.id, ["signed", "broadcast"]);
    expect(got).toMatchObject({ status: "confirmed", error_message: null, nonce: n });
    expect((await send()).body).toMatchObject({ status: "confirmed", nonce: n + 1 });
    const audit = await server.rt.db.auditEvent.findMany({ where: { resourceId: res.body.id }, orderBy: { createdAt: "asc" }, select: { action: true } });
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(["tx.sign", "tx.broadcast_unknown", "tx.broadcast", "tx.confirmed"]));
  });

  it("never reached the node but the client cannot know: nonce held; the next submit re-sends it first, then takes the next nonce", async () => {
    const n = await count("pending");
    proxy.arm("eth_sendRawTransaction", "drop");
    const lost = await send("0.002");
    expect(lost.body).toMatchObject({ status: "signed", nonce: n });
    expect(lost.body.error_message).toMatch(/^Broadcast outcome unknown: /);
    expect(await count("pending")).toBe(n);
    expect(await cursor()).toEqual({ next: n + 1, released: [] });

    const before = await node.balance(RECIPIENT);
    const next = await send("0.003");
    expect(next.body).toMatchObject({ status: "confirmed", nonce: n + 1 });
    expect(await minedHash(lost.body.tx_hash)).toBe("0x1");
    expect(await settled(lost.body.id, ["signed", "broadcast"])).toMatchObject({ status: "confirmed", error_message: null });
    expect(await count("latest")).toBe(n + 2);
    expect((await node.balance(RECIPIENT)) - before).toBe(5_000_000_000_000_000n);
  });

  it("an unknown outcome whose nonce another transaction took is marked failed, and the next submit follows on", async () => {
    const n = await count("pending");
    proxy.arm("eth_sendRawTransaction", "drop");
    const lost = await send();
    expect(lost.body).toMatchObject({ status: "signed", nonce: n });
    // Something else sends from the same address (the node holds account #1 unlocked) and takes nonce n.
    await node.send({ from: SIGNER, to: RECIPIENT, value: 1n });
    expect(await count("latest")).toBe(n + 1);
    const got = (await agent.api.get(`${txUrl}/${lost.body.id}`)).body;
    expect(got).toMatchObject({ status: "failed", error_message: `Nonce ${n} was used by another transaction from this address; this one was never mined` });
    expect(await minedHash(lost.body.tx_hash)).toBeNull();
    expect((await send()).body).toMatchObject({ status: "confirmed", nonce: n + 1 });
  });

  it("a timeout after sending (the node took it, no answer within 15 s) is an unknown outcome, settled once mined", async () => {
    const n = await count("pending");
    proxy.arm("eth_sendRawTransaction", "forward-then-hang");
    const res = await send();
    expect(res.body).toMatchObject({ status: "signed", nonce: n });
    expect(res.body.error_message).toMatch(/^Broadcast outcome unknown: The chain's RPC node did not answer eth_sendRawTransaction/);
    expect(await settled(res.body.id, ["signed", "broadcast"])).toMatchObject({ status: "confirmed", nonce: n });
    expect(await count("latest")).toBe(n + 1);
  }, 60_000);

  it("the node stopped between the nonce read and the broadcast: the row stays signed and its nonce held while the chain is gone", async () => {
    const n = await count("pending");
    const cursorBefore = await cursor();
    proxy.after("eth_getTransactionCount", () => node.close());
    const res = await send();
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: "signed", nonce: n });
    expect(res.body.error_message).toMatch(/^Broadcast outcome unknown: /);
    expect(await cursor()).toEqual({ next: n + 1, released: cursorBefore.released });
    // GET cannot settle it while the node is down: the row is served as it is.
    const got = await agent.api.get(`${txUrl}/${res.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ status: "signed", nonce: n });
    const refused = await send();
    expect(refused.status).toBe(502);
    expect(await cursor()).toEqual({ next: n + 1, released: cursorBefore.released });
  }, 60_000);
});
