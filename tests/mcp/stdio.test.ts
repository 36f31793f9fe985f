/**
 * The stdio server as a process: configuration errors, `talon mcp` (the same server through the CLI),
 * and stderr as the only log channel, free of values and credentials.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, expect, test } from "vitest";
import { TOOLS } from "../../lib/mcp/tools";
import { startTestServer, type TestServer } from "../helpers/server";
import { agentWithVault, call, connectStdio, MCP_BIN, NO_LIMITS } from "./helpers";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: NO_LIMITS });
});
afterAll(async () => server?.close());

function run(bin: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", NODE_ENV: "test", ...env }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end();
  });
}

test("a missing ONECLAW_* variable is one stderr line and exit 1, nothing on stdout", async () => {
  const r = await run(MCP_BIN, [], { ONECLAW_AGENT_ID: "8f0e0c4e-4b7b-4d59-9a53-1f1d6c1e2a10" });
  expect(r.code).toBe(1);
  expect(r.stdout).toBe("");
  expect(r.stderr.trim().split("\n")).toEqual(["talon-mcp: missing environment variables ONECLAW_AGENT_API_KEY, ONECLAW_VAULT_ID (see talon mcp --help)"]);
  const badId = await run(MCP_BIN, [], { ONECLAW_AGENT_ID: "nope", ONECLAW_AGENT_API_KEY: "ocv_x", ONECLAW_VAULT_ID: "nope" });
  expect(badId.code).toBe(1);
  expect(badId.stderr).toContain("must be UUIDs");
  expect(badId.stderr).not.toContain("ocv_x");
}, 120_000);

test("`talon mcp` serves the same tools; stderr logs tool names, never a value or the key", async () => {
  const w = await agentWithVault(server);
  const value = `value-${Date.now()}-zz`;
  await w.api.put(`/v1/vaults/${w.vaultId}/secrets/svc/key`, { value, type: "api_key" });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [path.resolve("cli/bin/talon.mjs"), "mcp"],
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ONECLAW_AGENT_ID: w.agentId, ONECLAW_AGENT_API_KEY: w.apiKey, ONECLAW_VAULT_ID: w.vaultId, ONECLAW_BASE_URL: server.url },
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const c = new Client({ name: "t", version: "1" });
  await c.connect(transport);
  try {
    // Every tool the server defines (lib/mcp/tools.ts), by name: the CLI's copy is the same server.
    expect((await c.listTools()).tools.map((t) => t.name).sort()).toEqual(TOOLS.map((t) => t.name).sort());
    expect((await call(c, "get_secret", { path: "svc/key" })).data.value).toBe(value);
  } finally {
    await c.close();
  }
  expect(stderr).toContain("get_secret ok");
  expect(stderr).not.toContain(value);
  expect(stderr).not.toContain(w.apiKey);
}, 120_000);

test("the stdio server refreshes its JWT 60 s before it expires", async () => {
  const w = await agentWithVault(server);
  // A 62 s token is due for refresh 2 s after it was issued.
  const patched = await w.api.patch(`/v1/agents/${w.agentId}`, { token_ttl_seconds: 62 });
  expect(patched.status).toBe(200);
  const mcp = await connectStdio({ ONECLAW_AGENT_ID: w.agentId, ONECLAW_AGENT_API_KEY: w.apiKey, ONECLAW_VAULT_ID: w.vaultId, ONECLAW_BASE_URL: server.url });
  const exchanges = () => server.rt.db.auditEvent.count({ where: { action: "auth.success", resourceId: w.agentId } });
  try {
    expect((await call(mcp.client, "list_secrets")).isError).toBe(false);
    expect((await call(mcp.client, "list_vaults")).isError).toBe(false);
    const before = await exchanges();
    await new Promise((r) => setTimeout(r, 2500));
    expect((await call(mcp.client, "list_secrets")).isError).toBe(false);
    // The old token was still valid for ~58 s: a new exchange now is the refresh-ahead.
    expect(await exchanges()).toBe(before + 1);
  } finally {
    await mcp.close();
  }
}, 120_000);

test("a wrong agent key: the server starts, says so on stderr, and tools answer with the credentials text", async () => {
  const w = await agentWithVault(server);
  const mcp = await connectStdio({
    ONECLAW_AGENT_ID: w.agentId,
    ONECLAW_AGENT_API_KEY: `${w.apiKey.slice(0, -4)}AAAA`,
    ONECLAW_VAULT_ID: w.vaultId,
    ONECLAW_BASE_URL: server.url,
  });
  try {
    const r = await call(mcp.client, "list_secrets");
    expect(r.isError).toBe(true);
    expect(r.text).toContain("did not accept this agent's credentials");
    expect(mcp.stderr()).toContain("could not sign in");
    expect(mcp.stderr()).not.toContain(w.apiKey.slice(4, 20));
  } finally {
    await mcp.close();
  }
}, 120_000);
