/** `talon tx simulate|submit|list` as a real child process, as an agent, against a real local chain. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Hex, parseEther } from "viem";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type EvmNode, startEvmNode } from "../helpers/evm-node";
import { startTestServer, type TestServer } from "../helpers/server";
import { agentWithVault, NO_LIMITS } from "../mcp/helpers";
import { buildCli, talon } from "./helpers";

const SIGNER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const RECIPIENT = "0x71bE63f3384f5fb98995898A86B02Fb2426c5788" as Hex;

let node: EvmNode;
let server: TestServer;
let env: Record<string, string>;

beforeAll(async () => {
  [node] = await Promise.all([startEvmNode(), buildCli()]);
  server = await startTestServer({ env: { ...NO_LIMITS, TALON_CHAIN_RPC_URLS: `localhost=${node.url}` } });
  const w = await agentWithVault(server);
  expect((await w.api.put(`/v1/vaults/${w.vaultId}/secrets/keys/localhost-signer`, { value: SIGNER_KEY, type: "private_key" })).status).toBe(201);
  expect((await w.api.patch(`/v1/agents/${w.agentId}`, { crypto_proxy_enabled: true })).status).toBe(200);
  env = { HOME: mkdtempSync(path.join(tmpdir(), "talon-cli-tx-")), ONECLAW_AGENT_ID: w.agentId, ONECLAW_AGENT_API_KEY: w.apiKey, ONECLAW_BASE_URL: server.url };
}, 120_000);
afterAll(async () => {
  await server?.close();
  await node?.close();
});

describe("talon tx", () => {
  test("simulate prints status and balance changes; submit lands on chain; list shows it", async () => {
    const sim = await talon(["tx", "simulate", "--to", RECIPIENT, "--value", "0.3", "--chain", "localhost"], { env });
    expect(sim.stderr).toBe("");
    expect(sim.code).toBe(0);
    expect(sim.stdout).toContain("Status: success");
    expect(sim.stdout).toContain(parseEther("0.3").toString());

    const before = await node.balance(RECIPIENT);
    const sent = await talon(["tx", "submit", "--to", RECIPIENT, "--value", "0.3", "--chain", "localhost", "--json"], { env });
    expect(sent.code).toBe(0);
    const t = JSON.parse(sent.stdout) as { id: string; status: string; tx_hash: string };
    expect(t.status).toBe("confirmed");
    expect((await node.balance(RECIPIENT)) - before).toBe(parseEther("0.3"));
    expect(sent.stdout).not.toContain(SIGNER_KEY.slice(2));

    const list = await talon(["tx", "list"], { env });
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(t.tx_hash);
    expect(list.stdout).toContain("confirmed");
  }, 60_000);

  test("usage errors name what is missing; API refusals exit 1 with the server's detail", async () => {
    const missing = await talon(["tx", "submit", "--to", RECIPIENT], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--value");
    const noRpc = await talon(["tx", "submit", "--to", RECIPIENT, "--value", "0.1", "--chain", "sepolia"], { env });
    expect(noRpc.code).toBe(1);
    expect(noRpc.stderr).toContain("TALON_CHAIN_RPC_URLS");
  }, 60_000);
});
