import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";
import { agentWithVault, call, connectHttp, NO_LIMITS } from "../mcp/helpers";

/**
 * Free-form JSON (a secret's `metadata`, over the API and through MCP) nests at most 32 levels: deeper is
 * a 400 naming the field, never a 500 — ten thousand levels parse fine but overflow the stack of any
 * recursive walk such as JSON.stringify. The deep bodies are sent as raw JSON text: building them as
 * objects and serialising them here would overflow in the test itself.
 */
let server: TestServer;
let api: ReturnType<typeof client>;
let vaultId: string;

/** `{"a":{"a":…1…}}` with `levels` objects. */
const nestedObject = (levels: number) => '{"a":'.repeat(levels) + "1" + "}".repeat(levels);
const putRaw = (path: string, metadataJson: string) => api.put(`/v1/vaults/${vaultId}/secrets/${path}`, `{"value":"v","metadata":${metadataJson}}`);

beforeAll(async () => {
  server = await startTestServer({ env: NO_LIMITS });
  const owner = await signUpVerified(server);
  await server.rt.db.org.update({ where: { id: owner.orgId }, data: { tier: "enterprise" } });
  api = client(server.url, owner.token);
  vaultId = (await api.post("/v1/vaults", { name: "deep" })).body.id;
});
afterAll(async () => {
  await server?.close();
});

function expectDepthRefusal(res: Awaited<ReturnType<typeof putRaw>>) {
  expect(res.status).toBe(400);
  expect(res.headers.get("content-type")).toContain("application/problem+json");
  expect(res.body.fields).toEqual([{ field: "metadata", message: "must not nest deeper than 32 levels" }]);
}

describe("metadata nesting depth", () => {
  it("32 levels are stored and read back (positive control)", async () => {
    const res = await putRaw("ok32", nestedObject(32));
    expect(res.status).toBe(201);
    const read = await api.get(`/v1/vaults/${vaultId}/secrets/ok32`);
    expect(read.status).toBe(200);
    expect(JSON.stringify(read.body.metadata)).toBe(nestedObject(32));
  });

  it("33 levels: 400 naming metadata, nothing written", async () => {
    expectDepthRefusal(await putRaw("deep33", nestedObject(33)));
    expect((await api.get(`/v1/vaults/${vaultId}/secrets/deep33`)).status).toBe(404);
  });

  it("10,000 nested objects and 30,000 nested arrays (just under the 64 KiB body limit): 400, never 500", async () => {
    expectDepthRefusal(await putRaw("deep10k", nestedObject(10_000)));
    expectDepthRefusal(await putRaw("arrays", `{"a":${"[".repeat(30_000)}${"]".repeat(30_000)}}`));
    expect(await server.rt.db.secret.count({ where: { vaultId, path: { in: ["deep10k", "arrays"] } } })).toBe(0);
    // The server is unharmed: the next request answers normally.
    expect((await putRaw("after", "{}")).status).toBe(201);
  });

  it("depth counts arrays and objects alike; a wide but shallow object is fine", async () => {
    expectDepthRefusal(await putRaw("mixed", `{"a":${'[{"b":'.repeat(16)}1${"}]".repeat(16)}}`));
    expect((await putRaw("mixed31", `{"a":${'[{"b":'.repeat(15)}1${"}]".repeat(15)}}`)).status).toBe(201);
    const wide = JSON.stringify(Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${i}`, { x: [1, 2, { y: i }] }])));
    expect((await putRaw("wide", wide)).status).toBe(201);
  });

  it("over MCP: put_secret with 33 levels is a tool error naming metadata; 32 levels are stored", async () => {
    const w = await agentWithVault(server);
    const mcp = await connectHttp(server.url, { Authorization: `Bearer ${w.apiKey}`, "X-Vault-ID": w.vaultId });
    try {
      const deep = await call(mcp.client, "put_secret", { path: "mcp/deep", value: "v", metadata: JSON.parse(nestedObject(33)) });
      expect(deep.isError).toBe(true);
      expect(deep.text).toMatch(/metadata/);
      expect(deep.text).not.toMatch(/500|internal/i);
      const ok = await call(mcp.client, "put_secret", { path: "mcp/ok", value: "v", metadata: JSON.parse(nestedObject(32)) });
      expect(ok.isError).toBe(false);
    } finally {
      await mcp.close();
    }
  });
});
