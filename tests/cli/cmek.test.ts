import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { cmekKeyFileText, decryptCmekValue, encryptCmekValue, importCmekKey } from "../../lib/crypto/cmek";
import { call, connectStdio, agentWithVault } from "../mcp/helpers";
import { startTestServer, type TestServer } from "../helpers/server";
import { buildCli, talon } from "./helpers";

/**
 * The CLI (`secrets get/put --cmek-key-file`, `talon run`) and the stdio MCP server
 * (TALON_CMEK_KEY_FILE) encrypt and decrypt a CMEK vault's values locally, as an agent holding the key.
 */
let server: TestServer;
let dir: string;
let setup: Awaited<ReturnType<typeof agentWithVault>>;
let env: Record<string, string>;
const raw = randomBytes(32);
let keyFile: string;

beforeAll(async () => {
  [server] = await Promise.all([startTestServer(), buildCli()]);
  setup = await agentWithVault(server);
  dir = mkdtempSync(path.join(tmpdir(), "talon-cli-cmek-"));
  keyFile = path.join(dir, "vault.key");
  writeFileSync(keyFile, cmekKeyFileText(raw), { mode: 0o600 });
  const key = await importCmekKey(raw);
  expect((await setup.api.post(`/v1/vaults/${setup.vaultId}/cmek`, { fingerprint: key.fingerprint })).status).toBe(200);
  env = { HOME: dir, XDG_CONFIG_HOME: path.join(dir, "config"), TALON_URL: server.url, ONECLAW_AGENT_ID: setup.agentId, ONECLAW_AGENT_API_KEY: setup.apiKey };
});
afterAll(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("secrets put/get with --cmek-key-file: the server holds only the blob; without the flag get prints the blob and warns", async () => {
  const plainPut = await talon(["secrets", "put", setup.vaultId, "cli/token", "--value-stdin"], { env, input: "cli-canary-value\n" });
  expect(plainPut.code).toBe(1);
  expect(plainPut.stderr).toMatch(/base64/);
  const put = await talon(["secrets", "put", setup.vaultId, "cli/token", "--value-stdin", "--cmek-key-file", keyFile], { env, input: "cli-canary-value\n" });
  expect(put).toMatchObject({ code: 0, stdout: "cli/token version 1\n" });
  const stored = await setup.api.get(`/v1/vaults/${setup.vaultId}/secrets/cli/token`);
  expect(stored.body.cmek_encrypted).toBe(true);
  expect(await decryptCmekValue(await importCmekKey(raw), { vaultId: setup.vaultId, path: "cli/token" }, stored.body.value)).toBe("cli-canary-value");

  const get = await talon(["secrets", "get", setup.vaultId, "cli/token", "--cmek-key-file", keyFile], { env });
  expect(get).toMatchObject({ code: 0, stdout: "cli-canary-value\n", stderr: "" });
  const viaEnv = await talon(["secrets", "get", setup.vaultId, "cli/token"], { env: { ...env, TALON_CMEK_KEY_FILE: keyFile } });
  expect(viaEnv.stdout).toBe("cli-canary-value\n");
  const blob = await talon(["secrets", "get", setup.vaultId, "cli/token"], { env });
  expect(blob.code).toBe(0);
  expect(blob.stdout).not.toContain("cli-canary-value");
  expect(blob.stderr).toMatch(/--cmek-key-file/);
  const missing = await talon(["secrets", "get", setup.vaultId, "cli/token", "--cmek-key-file", path.join(dir, "nope.key")], { env });
  expect(missing.code).toBe(1);
  expect(missing.stderr).toMatch(/cannot read the CMEK key file .*ENOENT/);
});

test("talon run decrypts an env bundle locally; without the key it refuses", async () => {
  const bundle = await encryptCmekValue(await importCmekKey(raw), { vaultId: setup.vaultId, path: "env/app" }, "APP_TOKEN=run-canary\n");
  expect((await setup.api.put(`/v1/vaults/${setup.vaultId}/secrets/env/app`, { value: bundle, type: "env_bundle" })).status).toBe(201);
  const script = ["-e", "process.stdout.write(process.env.APP_TOKEN ?? 'unset')"];
  const ran = await talon(["run", "--vault", setup.vaultId, "--bundle", "env/app", "--cmek-key-file", keyFile, "--", process.execPath, ...script], { env });
  expect(ran).toMatchObject({ code: 0, stdout: "run-canary" });
  const refused = await talon(["run", "--vault", setup.vaultId, "--bundle", "env/app", "--", process.execPath, ...script], { env });
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(/customer key: pass --cmek-key-file/);
});

test("the stdio MCP server with TALON_CMEK_KEY_FILE stores and fetches through the key; without it get_secret returns the blob", async () => {
  const base = { ONECLAW_AGENT_ID: setup.agentId, ONECLAW_AGENT_API_KEY: setup.apiKey, ONECLAW_VAULT_ID: setup.vaultId, ONECLAW_BASE_URL: server.url };
  const withKey = await connectStdio({ ...base, TALON_CMEK_KEY_FILE: keyFile });
  try {
    expect((await call(withKey.client, "put_secret", { path: "mcp/key", value: "mcp-canary" })).isError).toBe(false);
    const got = await call(withKey.client, "get_secret", { path: "mcp/key" });
    expect(got.data).toMatchObject({ value: "mcp-canary", cmek_encrypted: true });
    expect(withKey.stderr()).not.toContain(raw.toString("base64"));
  } finally {
    await withKey.close();
  }
  const without = await connectStdio(base);
  try {
    const got = await call(without.client, "get_secret", { path: "mcp/key" });
    expect(got.data.cmek_encrypted).toBe(true);
    expect(got.text).not.toContain("mcp-canary");
  } finally {
    await without.close();
  }
});
