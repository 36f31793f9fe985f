/**
 * The packages a user installs (talon-sdk, talon-mcp, talon-openapi), as a user gets them: built by
 * `npm run packages`, `npm pack`ed, installed from the tarball into an empty directory outside the repo
 * with an empty npm cache and no network (`--offline`), then used against a running Talon. Nothing
 * in that directory can reach the repo's node_modules, so a missing bundled dependency or a stray
 * server import fails here.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parse as parseYaml } from "yaml";
import { createApiApp } from "../../server/api/app";
import { createDispatcher } from "../../server/http/node-listener";
import { agentWithVault, call, NO_LIMITS } from "../mcp/helpers";
import { startTestServer, type TestServer } from "../helpers/server";

const run = promisify(execFile);
const REPO = path.resolve(".");
const NPM = path.join(path.dirname(process.execPath), "npm");
const NPX = path.join(path.dirname(process.execPath), "npx");

let work: string;
let consumer: string;
/** Every child gets only these variables (Next's types make NODE_ENV a required key). */
type ChildEnv = Record<string, string> & { NODE_ENV: "test" };
let npmEnv: ChildEnv;
const tarballs: Record<string, string> = {};
let server: TestServer;

/** npm with an empty cache of its own and no network: only what the tarball holds can be installed. */
const npm = (args: string[], cwd: string) => run(NPM, args, { cwd, env: npmEnv, timeout: 120_000 });

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "talon-packages-"));
  const out = path.join(work, "packages");
  await run(process.execPath, [path.join(REPO, "scripts/packages/build.mjs"), "--out", out], { cwd: REPO, timeout: 240_000 });
  npmEnv = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    NODE_ENV: "test",
    HOME: work,
    npm_config_cache: path.join(work, "npm-cache"),
    npm_config_offline: "true",
    npm_config_audit: "false",
    npm_config_fund: "false",
    npm_config_update_notifier: "false",
  };
  const packed = path.join(work, "tarballs");
  mkdirSync(packed);
  for (const name of ["talon-sdk", "talon-mcp", "talon-openapi"]) {
    const { stdout } = await npm(["pack", "--json", "--pack-destination", packed], path.join(out, name));
    tarballs[name] = path.join(packed, (JSON.parse(stdout) as Array<{ filename: string }>)[0]!.filename);
  }
  consumer = path.join(work, "consumer");
  mkdirSync(consumer);
  writeFileSync(path.join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  await npm(["install", "--offline", "--no-audit", tarballs["talon-sdk"]!, tarballs["talon-openapi"]!], consumer);
  server = await startTestServer({ env: { ...NO_LIMITS, TALON_MCP_RATE_LIMIT_PER_MINUTE: "0" } });
}, 600_000);

afterAll(async () => {
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

const manifest = (name: string) => JSON.parse(readFileSync(path.join(consumer, "node_modules", name, "package.json"), "utf8"));

describe("talon-sdk", () => {
  test("installs with no dependencies and its bundle imports nothing (no server, no generated code, no zod)", () => {
    const pkg = manifest("talon-sdk");
    expect(pkg).toMatchObject({ name: "talon-sdk", type: "module", exports: { ".": { types: "./types/index.d.ts", import: "./index.mjs" } } });
    expect(pkg.dependencies ?? {}).toEqual({});
    expect(readdirSync(path.join(consumer, "node_modules")).filter((d) => !d.startsWith("."))).toEqual(["talon-openapi", "talon-sdk"]);
    const bundle = readFileSync(path.join(consumer, "node_modules/talon-sdk/index.mjs"), "utf8");
    expect(bundle).not.toMatch(/^\s*import\s|\bimport\(|\brequire\(/m);
    expect(bundle).not.toMatch(/server\/|generated\/|prisma|pkcs11/i);
    expect(bundle).toMatch(/export\s*\{[^}]*\bcreateClient\b/);
  });

  test("a script in the fresh directory signs in as the agent, creates a vault, writes and reads a secret", async () => {
    const w = await agentWithVault(server);
    const value = `sk-live-${Date.now()}-packaged`;
    writeFileSync(
      path.join(consumer, "sdk.mjs"),
      `import { createClient } from "talon-sdk";
const talon = createClient({ baseUrl: process.env.ONECLAW_BASE_URL, agentId: process.env.ONECLAW_AGENT_ID, apiKey: process.env.ONECLAW_AGENT_API_KEY });
const vault = await talon.vaults.create({ name: "from-package-" + Date.now() });
if (vault.error) throw new Error("create vault: " + vault.error.detail);
const put = await talon.secrets.set(vault.data.id, "api/openai", process.env.SECRET_VALUE, { type: "api_key" });
const got = await talon.secrets.get(vault.data.id, "api/openai");
const missing = await talon.secrets.get(vault.data.id, "api/absent");
console.log(JSON.stringify({ vaultId: vault.data.id, put: put.meta.status, version: put.data?.version, value: got.data?.value, type: got.data?.type, missing: missing.error?.type }));
`,
    );
    const env: ChildEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", NODE_ENV: "test", ONECLAW_BASE_URL: server.url, ONECLAW_AGENT_ID: w.agentId, ONECLAW_AGENT_API_KEY: w.apiKey, SECRET_VALUE: value };
    const { stdout } = await run(process.execPath, ["sdk.mjs"], { cwd: consumer, env, timeout: 30_000 });
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ put: 201, version: 1, value, type: "api_key", missing: "not_found" });
    // The server holds what the script wrote (read back by the owner through the plain API).
    const direct = await w.api.get(`/v1/vaults/${result.vaultId}/secrets/api/openai`);
    expect(direct.status).toBe(200);
    expect(direct.body.value).toBe(value);
  });

  test("its .d.ts types stand alone under nodenext: typed results, and wrong input is a type error", async () => {
    writeFileSync(
      path.join(consumer, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { target: "ES2022", module: "nodenext", moduleResolution: "nodenext", strict: true, noEmit: true, lib: ["ES2023", "DOM"], types: [], skipLibCheck: false },
        files: ["consumer.ts"],
      }),
    );
    writeFileSync(
      path.join(consumer, "consumer.ts"),
      `import { createClient, type Secret, type Vault } from "talon-sdk";
const talon = createClient({ baseUrl: "http://localhost:3000", token: "t" });
const vault = await talon.vaults.get("00000000-0000-4000-8000-000000000000");
if (vault.data) {
  const v: Vault = vault.data;
  const name: string = v.name;
  const kind: "user" | "agent" | "system" = v.created_by_type;
  void name; void kind;
}
const secret = await talon.secrets.get("v", "p");
if (secret.data) { const s: Secret = secret.data; const value: string = s.value; void value; }
// @ts-expect-error: a vault needs a name
await talon.vaults.create({});
// @ts-expect-error: a secret value is a string
await talon.secrets.set("v", "p", 42);
// @ts-expect-error: the response carries no such field
void vault.data?.no_such_field;
`,
    );
    const tsc = path.join(REPO, "node_modules/typescript/bin/tsc");
    const result = await run(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: consumer, timeout: 120_000 }).then(
      () => "",
      (e: { stdout?: string }) => e.stdout ?? "tsc failed",
    );
    expect(result).toBe("");
  });
});

describe("talon-mcp", () => {
  test("runs with npx from its tarball (no dependencies to fetch), reads ONECLAW_*, lists its tools and serves get_secret", async () => {
    const w = await agentWithVault(server);
    const value = `mcp-${Date.now()}-packaged`;
    expect((await w.api.put(`/v1/vaults/${w.vaultId}/secrets/svc/key`, { value, type: "api_key" })).status).toBe(201);
    const cwd = mkdtempSync(path.join(work, "npx-"));
    const transport = new StdioClientTransport({
      command: NPX,
      args: ["--yes", "--package", tarballs["talon-mcp"]!, "talon-mcp"],
      cwd,
      env: {
        ...npmEnv,
        ONECLAW_AGENT_ID: w.agentId,
        ONECLAW_AGENT_API_KEY: w.apiKey,
        ONECLAW_VAULT_ID: w.vaultId,
        ONECLAW_BASE_URL: server.url,
      },
      stderr: "pipe",
    });
    let stderr = "";
    transport.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    const c = new Client({ name: "talon-packages-test", version: "1.0.0" });
    await c.connect(transport);
    try {
      expect(c.getServerVersion()).toMatchObject({ name: "talon" });
      const tools = (await c.listTools()).tools.map((t) => t.name);
      expect(tools).toEqual(expect.arrayContaining(["get_secret", "put_secret", "list_secrets", "describe_secret", "share_secret"]));
      const got = await call(c, "get_secret", { path: "svc/key" });
      expect(got.isError).toBe(false);
      expect(got.data.value).toBe(value);
      const absent = await call(c, "get_secret", { path: "svc/absent" });
      expect(absent.isError).toBe(true);
    } finally {
      await c.close();
    }
    expect(stderr).toContain(`serving vault ${w.vaultId} at ${server.url}`);
    expect(stderr).not.toContain(value);
    expect(stderr).not.toContain(w.apiKey);
    const packed = JSON.parse(readFileSync(path.join(work, "packages/talon-mcp/package.json"), "utf8"));
    expect(packed).toMatchObject({ name: "talon-mcp", bin: { "talon-mcp": "bin/talon-mcp.mjs" } });
    expect(packed.dependencies ?? {}).toEqual({});
  });

  test("exits 1 naming the missing ONECLAW_* variables (and nothing else) when the configuration is incomplete", async () => {
    const failed = await run(NPX, ["--yes", "--package", tarballs["talon-mcp"]!, "talon-mcp"], { cwd: work, env: npmEnv, timeout: 60_000 }).then(
      () => null,
      (e: { code?: number; stderr?: string }) => e,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain("missing environment variables ONECLAW_AGENT_ID, ONECLAW_AGENT_API_KEY, ONECLAW_VAULT_ID");
  });
});

describe("talon-openapi and the served document", () => {
  test("the package's openapi.json and openapi.yaml are the document /v1/openapi.json serves (but for the server address)", async () => {
    const served = await (await fetch(`${server.url}/v1/openapi.json`)).json();
    const dir = path.join(consumer, "node_modules/talon-openapi");
    expect(manifest("talon-openapi").exports).toMatchObject({ "./openapi.json": "./openapi.json", "./openapi.yaml": "./openapi.yaml" });
    const json = JSON.parse(readFileSync(path.join(dir, "openapi.json"), "utf8"));
    const yaml = parseYaml(readFileSync(path.join(dir, "openapi.yaml"), "utf8"));
    expect(json.servers).toEqual([{ url: "http://localhost:3000", description: expect.any(String) }]);
    expect(served.servers).toEqual([{ url: server.rt.config.publicUrl, description: "This Talon server" }]);
    expect({ ...json, servers: served.servers }).toEqual(served);
    expect(yaml).toEqual(json);
    expect(Object.keys(json.paths)).toContain("/v1/vaults/{id}/secrets/{path}");
  });

  test("a running server serves the same document at /openapi.json and /openapi.yaml", async () => {
    const v1 = await (await fetch(`${server.url}/v1/openapi.json`)).json();
    const rootJson = await fetch(`${server.url}/openapi.json`);
    expect(rootJson.status).toBe(200);
    expect(rootJson.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await rootJson.json()).toEqual(v1);
    const rootYaml = await fetch(`${server.url}/openapi.yaml`);
    expect(rootYaml.status).toBe(200);
    expect(rootYaml.headers.get("content-type")).toMatch(/^application\/yaml/);
    expect(parseYaml(await rootYaml.text())).toEqual(v1);
  });

  test("the node dispatcher sends /openapi.json and /openapi.yaml to the API app, and other root files to Next.js", async () => {
    const fallback = (_req: unknown, res: { writeHead(s: number): { end(b: string): void } }) => res.writeHead(404).end("next");
    const http: Server = createServer(createDispatcher(createApiApp(server.rt), fallback as never));
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    try {
      for (const p of ["/openapi.json", "/openapi.yaml", "/v1/openapi.json"]) expect((await fetch(base + p)).status, p).toBe(200);
      for (const p of ["/openapi.yml", "/openapi.json/x", "/dashboard"]) {
        const res = await fetch(base + p);
        expect(res.status, p).toBe(404);
        expect(await res.text(), p).toBe("next");
      }
    } finally {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    }
  });
});
