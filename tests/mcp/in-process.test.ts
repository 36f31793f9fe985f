/**
 * The hosted tools' in-process fetch (server/mcp/in-process.ts): a bodiless call dispatched into the
 * app without an undici Request answers exactly as `app.request` does, and goes through the same
 * pipeline: authentication, policies, the caller's IP (IP rules), the audit log.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createApiApp } from "../../server/api/app";
import { inProcessCalls, inProcessFetch } from "../../server/mcp/in-process";
import type { ApiApp } from "../../server/http/env";
import { grant } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";
import { agentWithVault, NO_LIMITS } from "./helpers";

const ORIGIN = "http://talon.internal";
let server: TestServer;
let app: ApiApp;
let w: Awaited<ReturnType<typeof agentWithVault>>;
let jwt: string;

type Seen = { status: number; body: string; headers: Record<string, string> };
async function seen(res: Response): Promise<Seen> {
  const headers: Record<string, string> = {};
  res.headers.forEach((v, k) => (headers[k] = v));
  // Every answer has its own request id; the rest must match.
  const body = (await res.text()).replaceAll(headers["x-request-id"] ?? "\u0000", "<id>");
  delete headers["x-request-id"];
  return { status: res.status, body, headers };
}

const env = (ip: string) => ({ incoming: { socket: { remoteAddress: ip } } });

beforeAll(async () => {
  server = await startTestServer({ env: NO_LIMITS });
  app = createApiApp(server.rt);
  w = await agentWithVault(server);
  await grant(w.api, w.vaultId, {
    principal_type: "agent",
    principal_id: w.agentId,
    secret_path_pattern: "denied/**",
    permissions: ["read", "write"],
    effect: "deny",
  });
  for (const path of ["ip/a", "ip/b_c", "denied/x", "audited/once"]) {
    expect((await w.api.put(`/v1/vaults/${w.vaultId}/secrets/${path}`, { value: `value-of-${path}` })).status).toBe(201);
  }
  const token = await fetch(`${server.url}/v1/auth/agent-token`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ agent_id: w.agentId, api_key: w.apiKey }) });
  jwt = ((await token.json()) as { access_token: string }).access_token;
});
afterAll(async () => server?.close());

describe("hosted MCP in-process fetch", () => {
  test("answers bodiless calls exactly as app.request does, and takes the light path for them", async () => {
    const f = inProcessFetch(app, env("127.0.0.1"));
    const auth = { Accept: "application/json", "User-Agent": "talon-hosted-mcp", Authorization: `Bearer ${jwt}` };
    const cases: Array<[string, string, Record<string, string>]> = [
      ["GET", `/v1/vaults/${w.vaultId}/secrets/ip/a`, auth],
      ["GET", `/v1/vaults/${w.vaultId}/secrets/ip/b%5Fc`, auth],
      ["GET", `/v1/vaults/${w.vaultId}/secrets/ip/none`, auth],
      ["GET", `/v1/vaults/${w.vaultId}/secrets/denied/x`, auth],
      ["GET", `/v1/vaults/${w.vaultId}/secrets?prefix=ip/`, auth],
      ["GET", `/v1/vaults/${w.vaultId}/secrets?prefix=${"x".repeat(600)}`, auth],
      ["GET", `/v1/vaults/${w.vaultId}/secrets/ip/a`, { ...auth, Authorization: "Bearer not-a-token" }],
      ["GET", `/v1/vaults/${w.vaultId}/secrets/ip/a`, { Accept: "application/json" }],
      ["GET", `/v1/agents/me`, auth],
      ["DELETE", `/v1/vaults/${w.vaultId}/secrets/denied/x`, auth],
      ["GET", `/v1/no-such-route`, auth],
    ];
    for (const [method, path, headers] of cases) {
      const before = inProcessCalls.light;
      const light = await seen(await f(new URL(ORIGIN + path), { method, headers }));
      expect({ path, light: inProcessCalls.light - before }).toEqual({ path, light: 1 });
      const full = await seen(await app.request(new URL(ORIGIN + path).href, { method, headers }, env("127.0.0.1")));
      // Both calls are metered: the second one counted one more.
      const used = "x-ratelimit-requests-used";
      if (light.headers[used] !== undefined || full.headers[used] !== undefined) {
        expect({ path, used: Number(full.headers[used]) - Number(light.headers[used]) }).toEqual({ path, used: 1 });
        delete light.headers[used];
        delete full.headers[used];
      }
      expect({ method, path, ...light }).toEqual({ method, path, ...full });
    }
    // Calls with a body, and headers undici would rewrite, take app.request as before.
    const before = inProcessCalls.light;
    const put = await f(new URL(`${ORIGIN}/v1/vaults/${w.vaultId}/secrets/ip/put`), {
      method: "PUT",
      headers: { ...auth, "Content-Type": "application/json" },
      body: JSON.stringify({ value: "put-through-app-request" }),
    });
    expect(put.status).toBe(201);
    const padded = await f(new URL(`${ORIGIN}/v1/vaults/${w.vaultId}/secrets/ip/a`), { headers: { ...auth, Accept: " application/json " } });
    expect(padded.status).toBe(200);
    expect(inProcessCalls.light).toBe(before);
  });

  test("the light path still applies the caller's IP (IP rules), policies and the audit log", async () => {
    const auth = { Accept: "application/json", Authorization: `Bearer ${jwt}` };
    const read = (ip: string, path: string) => inProcessFetch(app, env(ip))(new URL(`${ORIGIN}/v1/vaults/${w.vaultId}/secrets/${path}`), { headers: auth });
    // An IP deny rule on the org: a call carrying an address in it is refused, one from elsewhere is served.
    const rule = await w.api.post("/v1/security/ip-rules", { rule_type: "deny", cidr: "192.0.2.0/24" });
    try {
      expect(rule.status).toBe(201);
      expect((await read("192.0.2.7", "ip/a")).status).toBe(403);
      expect((await read("198.51.100.7", "ip/a")).status).toBe(200);
    } finally {
      if (rule.status === 201) expect((await w.api.delete(`/v1/security/ip-rules/${rule.body.id}`)).status).toBe(204);
    }
    // The deny policy.
    const denied = await read("127.0.0.1", "denied/x");
    expect(denied.status).toBe(403);
    expect(await denied.text()).not.toContain("value-of-denied/x");
    // The audit log: exactly one read of audited/once, as the agent's, from the caller's IP.
    expect((await read("127.0.0.1", "audited/once")).status).toBe(200);
    let reads: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 50 && reads.length === 0; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      const exported = await w.api.get("/v1/audit/export?format=ndjson");
      reads = exported.text
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((e) => e.action === "secret.read" && String(e.details).includes('"audited/once"'));
    }
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject({ actor: `agent:${w.agentId}`, ip_address: "127.0.0.1" });
  });
});
