/**
 * The crypto-proxy MCP tools (simulate_transaction, submit_transaction, list_transactions,
 * get_transaction) through both transports with the official MCP SDK client, against a real local
 * chain: what the agent asks for is signed with a key it never sees, and lands on chain.
 */
import { getAddress, type Hex, parseEther } from "viem";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type EvmNode, startEvmNode } from "../helpers/evm-node";
import { startTestServer, type TestServer } from "../helpers/server";
import { agentWithVault, call, connectHttp, connectStdio, type McpConnection, NO_LIMITS } from "./helpers";

const SIGNER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const SIGNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const RECIPIENT = "0xBcd4042DE499D14e55001CcbB24a551F3b954096" as Hex;

let node: EvmNode;
let server: TestServer;
beforeAll(async () => {
  node = await startEvmNode();
  server = await startTestServer({ env: { ...NO_LIMITS, TALON_CHAIN_RPC_URLS: `localhost=${node.url}` } });
}, 120_000);
afterAll(async () => {
  await server?.close();
  await node?.close();
});

describe.each(["stdio", "http"] as const)("crypto-proxy MCP tools over %s", (transport) => {
  let w: Awaited<ReturnType<typeof agentWithVault>>;
  let mcp: McpConnection;
  beforeAll(async () => {
    w = await agentWithVault(server);
    expect((await w.api.put(`/v1/vaults/${w.vaultId}/secrets/keys/localhost-signer`, { value: SIGNER_KEY, type: "private_key" })).status).toBe(201);
    expect((await w.api.patch(`/v1/agents/${w.agentId}`, { crypto_proxy_enabled: true, tx_max_value_eth: "1" })).status).toBe(200);
    mcp =
      transport === "stdio"
        ? await connectStdio({ ONECLAW_AGENT_ID: w.agentId, ONECLAW_AGENT_API_KEY: w.apiKey, ONECLAW_VAULT_ID: w.vaultId, ONECLAW_BASE_URL: server.url })
        : await connectHttp(server.url, { Authorization: `Bearer ${w.apiKey}`, "X-Vault-ID": w.vaultId });
  }, 60_000);
  afterAll(async () => mcp?.close());

  test("the tools have the card's parameters", async () => {
    const byName = Object.fromEntries((await mcp.client.listTools()).tools.map((t) => [t.name, t.inputSchema]));
    expect(Object.keys(byName.simulate_transaction!.properties ?? {}).sort()).toEqual(["chain", "data", "gas_limit", "signing_key_path", "to", "value"]);
    expect([...(byName.simulate_transaction!.required ?? [])].sort()).toEqual(["chain", "to", "value"]);
    expect(Object.keys(byName.submit_transaction!.properties ?? {}).sort()).toEqual(
      ["chain", "data", "gas_limit", "gas_price", "idempotency_key", "max_fee_per_gas", "max_priority_fee_per_gas", "nonce", "signing_key_path", "simulate_first", "to", "value"],
    );
  });

  test("simulate, submit (mined on chain), list and get; a guardrail refusal tells the agent the rule", async () => {
    const sim = await call(mcp.client, "simulate_transaction", { to: RECIPIENT, value: "0.2", chain: "localhost" });
    expect(sim.isError).toBe(false);
    expect(sim.data).toMatchObject({ status: "success", from: SIGNER });

    const before = await node.balance(RECIPIENT);
    const sent = await call(mcp.client, "submit_transaction", { to: RECIPIENT, value: "0.2", chain: "localhost" });
    expect(sent.isError).toBe(false);
    expect(sent.data).toMatchObject({ status: "confirmed", from: SIGNER, to: getAddress(RECIPIENT) });
    expect((await node.balance(RECIPIENT)) - before).toBe(parseEther("0.2"));
    expect(sent.text).not.toContain(SIGNER_KEY.slice(2));

    const listed = await call(mcp.client, "list_transactions", { limit: 5 });
    expect((listed.data.transactions as Array<{ id: string }>)[0]!.id).toBe(sent.data.id);
    const got = await call(mcp.client, "get_transaction", { transaction_id: sent.data.id });
    expect(got.data).toMatchObject({ id: sent.data.id, status: "confirmed", tx_hash: sent.data.tx_hash });
    expect(got.data.signed_tx).toBeUndefined();

    const refused = await call(mcp.client, "submit_transaction", { to: RECIPIENT, value: "1.5", chain: "localhost" });
    expect(refused.isError).toBe(true);
    expect(refused.text).toContain("tx_max_value_eth");
    const missing = await call(mcp.client, "get_transaction", { transaction_id: "00000000-0000-4000-8000-000000000000" });
    expect(missing.text).toContain("list_transactions");
  }, 60_000);
});
