import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../../lib/sdk";
import { ConfigError, loadConfig } from "../../server/config";
import { signUpVerified } from "../helpers/accounts";
import { agentToken, registerAgent } from "../helpers/agents";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";

let server: TestServer;
let human: Awaited<ReturnType<typeof signUpVerified>>;
const api = () => client(server.url, human.token);

beforeAll(async () => {
  server = await startTestServer({ env: { TALON_CHAIN_RPC_URLS: "sepolia=http://127.0.0.1:8545,optimism=https://u:pw@op.example:8443/v3/canary-rpc-key?apikey=canary-q" } });
  human = await signUpVerified(server);
});
afterAll(async () => {
  await server?.close();
});

const EXPECTED = [
  ["ethereum", 1, false],
  ["base", 8453, false],
  ["optimism", 10, false],
  ["arbitrum-one", 42161, false],
  ["polygon", 137, false],
  ["sepolia", 11155111, true],
  ["base-sepolia", 84532, true],
  ["localhost", 31337, true],
];

describe("GET /v1/chains", () => {
  it("lists the seven card chains and localhost; only the configured ones are enabled", async () => {
    const res = await api().get("/v1/chains");
    expect(res.status).toBe(200);
    const chains = res.body.chains as Array<Record<string, unknown>>;
    expect(chains.map((c) => [c.id, c.chain_id, c.is_testnet])).toEqual(EXPECTED);
    expect(chains.every((c) => c.id === c.name)).toBe(true);
    expect(chains.find((c) => c.id === "sepolia")).toEqual({
      id: "sepolia",
      name: "sepolia",
      display_name: "Sepolia",
      chain_id: 11155111,
      rpc_url: "http://127.0.0.1:8545",
      ws_url: null,
      explorer_url: "https://sepolia.etherscan.io",
      native_currency: { name: "Ether", symbol: "ETH", decimals: 18 },
      is_testnet: true,
      is_enabled: true,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect(chains.find((c) => c.id === "base")).toMatchObject({ rpc_url: null, is_enabled: false, explorer_url: "https://basescan.org" });
    // A provider key in the configured URL never reaches callers: only the origin is shown.
    expect(chains.find((c) => c.id === "optimism")).toMatchObject({ rpc_url: "https://op.example:8443", is_enabled: true });
    expect(JSON.stringify(chains)).not.toContain("canary");
    expect(chains.find((c) => c.id === "polygon")!.native_currency).toMatchObject({ symbol: "POL" });
    expect(chains.filter((c) => c.is_enabled).map((c) => c.id)).toEqual(["optimism", "sepolia"]);
  });

  it("gets a chain by name, case-insensitively, and by numeric chain id", async () => {
    const byName = await api().get("/v1/chains/base");
    expect(byName.status).toBe(200);
    expect(byName.body).toMatchObject({ id: "base", chain_id: 8453, is_enabled: false, rpc_url: null });
    const upper = await api().get("/v1/chains/Base-Sepolia");
    expect(upper.status).toBe(200);
    expect(upper.body).toMatchObject({ id: "base-sepolia", chain_id: 84532, is_testnet: true });
    const byId = await api().get("/v1/chains/11155111");
    expect(byId.status).toBe(200);
    expect(byId.body).toMatchObject({ id: "sepolia", rpc_url: "http://127.0.0.1:8545", is_enabled: true });
  });

  it("404s an unknown chain and 400s an overlong identifier", async () => {
    for (const id of ["solana", "999", "0"]) {
      const res = await api().get(`/v1/chains/${id}`);
      expect(res.status).toBe(404);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
      expect(res.body.detail).toBe("Unknown chain; GET /v1/chains lists supported chains");
    }
    expect((await api().get(`/v1/chains/${"a".repeat(65)}`)).status).toBe(400);
  });

  it("is public: served without credentials, still without any RPC path or key", async () => {
    const list = await client(server.url).get("/v1/chains");
    expect(list.status).toBe(200);
    expect(list.body.chains).toHaveLength(8);
    expect(JSON.stringify(list.body)).not.toContain("canary");
    const one = await client(server.url).get("/v1/chains/31337");
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: "localhost", chain_id: 31337, is_testnet: true, is_enabled: false, explorer_url: "" });
  });

  it("serves agents too", async () => {
    const agent = await registerAgent(server.url, human.token);
    const token = await agentToken(server.url, agent.id, agent.apiKey);
    const res = await client(server.url, token).get("/v1/chains/1");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: "ethereum", explorer_url: "https://etherscan.io" });
    expect((await client(server.url, token).get("/v1/chains")).body.chains).toHaveLength(8);
  });

  it("is not metered: no quota headers and the used count does not move", async () => {
    const used = async () => Number((await api().get("/v1/vaults")).headers.get("x-ratelimit-requests-used"));
    const before = await used();
    expect(before).toBeGreaterThan(0);
    for (const path of ["/v1/chains", "/v1/chains/base", "/v1/chains/nope"]) {
      const res = await api().get(path);
      expect(res.headers.get("x-ratelimit-requests-used")).toBeNull();
    }
    expect(await used()).toBe(before + 1); // only the second metered read counted
  });
});

describe("SDK chains resource", () => {
  it("lists and gets", async () => {
    const sdk = createClient({ baseUrl: server.url, token: human.token });
    const list = await sdk.chains.list();
    expect(list.error).toBeNull();
    expect(list.data!.chains.map((c) => c.id)).toEqual(EXPECTED.map((e) => e[0]));
    const byId = await sdk.chains.get(84532);
    expect(byId.data).toMatchObject({ id: "base-sepolia", is_testnet: true });
    const byName = await sdk.chains.get("SEPOLIA");
    expect(byName.data).toMatchObject({ chain_id: 11155111, is_enabled: true });
    const missing = await sdk.chains.get("dogechain");
    expect(missing.data).toBeNull();
    expect(missing.meta.status).toBe(404);
    expect(missing.error).toMatchObject({ type: "not_found", detail: "Unknown chain; GET /v1/chains lists supported chains" });
  });
});

describe("TALON_CHAIN_RPC_URLS", () => {
  it("parses name=url pairs", () => {
    const c = loadConfig({ TALON_CHAIN_RPC_URLS: " Base=https://rpc.example/v1 , sepolia=http://127.0.0.1:8545" });
    expect(c.chainRpcUrls).toEqual({ base: "https://rpc.example/v1", sepolia: "http://127.0.0.1:8545" });
    expect(loadConfig({}).chainRpcUrls).toEqual({});
  });

  it.each([
    "solana=https://rpc.example",
    "base=ftp://rpc.example",
    "base=not a url",
    "base",
    "=https://rpc.example",
    "base=https://a.example,base=https://b.example",
    `base=https://rpc.example/${"a".repeat(2048)}`,
  ])("refuses %s", (value) => {
    expect(() => loadConfig({ TALON_CHAIN_RPC_URLS: value })).toThrow(ConfigError);
    expect(() => loadConfig({ TALON_CHAIN_RPC_URLS: value })).toThrow(/TALON_CHAIN_RPC_URLS/);
  });

  it("does not echo the URL (it may carry an API key) in the error", () => {
    expect(() => loadConfig({ TALON_CHAIN_RPC_URLS: "base=ftp://key-abc123@rpc.example" })).toThrow(/^(?!.*key-abc123)/s);
  });
});
