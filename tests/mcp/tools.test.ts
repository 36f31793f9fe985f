/**
 * Every MCP tool through both transports, driven by the official MCP SDK client: the stdio server
 * spawned as `node cli/bin/talon-mcp.mjs` with the ONECLAW_* env, and the hosted `/mcp` endpoint.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server";
import { agentWithVault, call, connectHttp, connectStdio, NO_LIMITS, type McpConnection } from "./helpers";

const TOOL_NAMES = [
  "create_vault",
  "delete_secret",
  "describe_secret",
  "execute_http",
  "get_approval_status",
  "get_env_bundle",
  "get_secret",
  "get_transaction",
  "grant_access",
  "list_bindings",
  "list_secrets",
  "list_transactions",
  "list_vaults",
  "list_versions",
  "put_secret",
  "rotate_and_store",
  "rotate_generate",
  "share_secret",
  "simulate_transaction",
  "submit_transaction",
];

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: NO_LIMITS });
});
afterAll(async () => server?.close());

describe.each(["stdio", "http"] as const)("MCP tools over %s", (transport) => {
  let w: Awaited<ReturnType<typeof agentWithVault>>;
  let mcp: McpConnection;
  beforeAll(async () => {
    w = await agentWithVault(server);
    // A deny policy carves out forbidden/** so the 403 text can be checked beside the allowed paths.
    const deny = await w.api.post(`/v1/vaults/${w.vaultId}/policies`, {
      principal_type: "agent",
      principal_id: w.agentId,
      secret_path_pattern: "forbidden/**",
      permissions: ["read", "write"],
      effect: "deny",
    });
    expect(deny.status).toBe(201);
    mcp =
      transport === "stdio"
        ? await connectStdio({ ONECLAW_AGENT_ID: w.agentId, ONECLAW_AGENT_API_KEY: w.apiKey, ONECLAW_VAULT_ID: w.vaultId, ONECLAW_BASE_URL: server.url })
        : await connectHttp(server.url, { Authorization: `Bearer ${w.apiKey}`, "X-Vault-ID": w.vaultId });
  });
  afterAll(async () => mcp?.close());

  test("lists exactly the card's tools (plus list_versions, rotate_generate, list_transactions, get_transaction) with the card's parameters", async () => {
    const { tools } = await mcp.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(TOOL_NAMES);
    const byName = Object.fromEntries(tools.map((t) => [t.name, t.inputSchema]));
    expect(Object.keys(byName.put_secret!.properties ?? {}).sort()).toEqual(["expires_at", "max_access_count", "metadata", "path", "type", "value"]);
    expect([...(byName.put_secret!.required ?? [])].sort()).toEqual(["path", "value"]);
    expect(Object.keys(byName.grant_access!.properties ?? {}).sort()).toEqual(["permissions", "principal_id", "principal_type", "secret_path_pattern", "vault_id"]);
    expect([...(byName.grant_access!.required ?? [])].sort()).toEqual(["principal_id", "principal_type", "vault_id"]);
    expect(Object.keys(byName.list_secrets!.properties ?? {})).toEqual(["prefix"]);
    expect(byName.list_secrets!.required ?? []).toEqual([]);
    expect(Object.keys(byName.list_vaults!.properties ?? {})).toEqual([]);
    expect(Object.keys(byName.create_vault!.properties ?? {}).sort()).toEqual(["description", "name"]);
  });

  test("put_secret, get_secret, list_secrets, describe_secret, rotate_and_store, list_versions", async () => {
    const put = await call(mcp.client, "put_secret", { path: "api-keys/stripe", value: "sk_test_first_value", metadata: { env: "test" } });
    expect(put.isError).toBe(false);
    expect(put.data).toMatchObject({ path: "api-keys/stripe", type: "api_key", version: 1, metadata: { env: "test" } });
    expect(put.data.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(put.data).not.toHaveProperty("value");

    const got = await call(mcp.client, "get_secret", { path: "api-keys/stripe" });
    expect(got.data).toMatchObject({ path: "api-keys/stripe", value: "sk_test_first_value", version: 1 });

    await call(mcp.client, "put_secret", { path: "db/password", value: "pw-db-0001", type: "password" });
    const listed = await call(mcp.client, "list_secrets", { prefix: "api-keys/" });
    expect((listed.data.secrets as Array<{ path: string; id: string }>).map((s) => [s.path, s.id])).toEqual([["api-keys/stripe", put.data.id]]);
    expect(JSON.stringify(listed.data)).not.toContain('"value"');
    const all = await call(mcp.client, "list_secrets");
    expect((all.data.secrets as Array<{ path: string }>).map((s) => s.path).sort()).toEqual(["api-keys/stripe", "db/password"]);

    const described = await call(mcp.client, "describe_secret", { path: "db/password" });
    expect(described.data).toMatchObject({ path: "db/password", type: "password", version: 1, expires_at: null, is_disabled: false });
    expect(described.data.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(described.data).not.toHaveProperty("value");

    const rotated = await call(mcp.client, "rotate_and_store", { path: "api-keys/stripe", value: "sk_test_second_value" });
    expect(rotated.data).toMatchObject({ version: 2, type: "api_key", metadata: { env: "test" } });
    expect((await call(mcp.client, "get_secret", { path: "api-keys/stripe" })).data.value).toBe("sk_test_second_value");

    const versions = await call(mcp.client, "list_versions", { path: "api-keys/stripe" });
    expect((versions.data.versions as Array<{ version: number }>).map((v) => v.version).sort()).toEqual([1, 2]);
  });

  test("describe_secret consumes no access count; a used-up secret gives the 410 text", async () => {
    await call(mcp.client, "put_secret", { path: "once/token", value: "one-time-value", max_access_count: 1 });
    for (let i = 0; i < 3; i++) expect((await call(mcp.client, "describe_secret", { path: "once/token" })).isError).toBe(false);
    expect((await call(mcp.client, "get_secret", { path: "once/token" })).data.value).toBe("one-time-value");
    const gone = await call(mcp.client, "get_secret", { path: "once/token" });
    expect(gone.isError).toBe(true);
    expect(gone.text).toContain("used up its max access count");
    expect(gone.text).not.toContain("deleted");
    expect(gone.text).toContain("Ask the user to store a new version");
  });

  test("a 410 tells the agent why: deleted, expired or used up", async () => {
    const put = await call(mcp.client, "put_secret", { path: "gone/deleted", value: "deleted-value" });
    expect((await call(mcp.client, "delete_secret", { path: "gone/deleted" })).isError).toBe(false);
    const deleted = await call(mcp.client, "get_secret", { path: "gone/deleted" });
    expect(deleted.isError).toBe(true);
    expect(deleted.text).toContain("The secret was deleted");
    expect(deleted.text).not.toContain("expired");

    await call(mcp.client, "put_secret", { path: "gone/expired", value: "expired-value", expires_at: new Date(Date.now() + 3600_000).toISOString() });
    await server.rt.db.secretVersion.updateMany({ where: { secret: { vaultId: w.vaultId, path: "gone/expired" } }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const expired = await call(mcp.client, "get_secret", { path: "gone/expired" });
    expect(expired.isError).toBe(true);
    expect(expired.text).toContain("has expired");
    expect(expired.text).not.toContain("deleted");
    expect(put.data.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("the vault://secrets resource lists the vault's secrets (ids, paths), never values", async () => {
    const put = await call(mcp.client, "put_secret", { path: "res/listed", value: "resource-hidden-value" });
    const { resources } = await mcp.client.listResources();
    expect(resources.map((r) => r.uri)).toContain("vault://secrets");
    const read = await mcp.client.readResource({ uri: "vault://secrets" });
    const content = read.contents[0] as { uri: string; mimeType?: string; text: string };
    expect(content).toMatchObject({ uri: "vault://secrets", mimeType: "application/json" });
    const listed = JSON.parse(content.text) as { secrets: Array<{ id: string; path: string }> };
    expect(listed.secrets).toContainEqual(expect.objectContaining({ id: put.data.id, path: "res/listed" }));
    expect(content.text).not.toContain("resource-hidden-value");
    expect(content.text).not.toContain('"value"');
  });

  test("rotate_generate stores a server-generated value without returning it", async () => {
    await call(mcp.client, "put_secret", { path: "gen/key", value: "initial-value" });
    const r = await call(mcp.client, "rotate_generate", { path: "gen/key", length: 40, charset: "hex" });
    expect(r.isError).toBe(false);
    expect(r.data).toMatchObject({ rotated: true, path: "gen/key", version: 2 });
    expect(r.data).not.toHaveProperty("value");
    const fresh = (await call(mcp.client, "get_secret", { path: "gen/key" })).data.value as string;
    expect(fresh).toMatch(/^[0-9a-f]{40}$/);
    expect(r.text).not.toContain(fresh);
  });

  test("get_env_bundle parses KEY=VALUE lines", async () => {
    await call(mcp.client, "put_secret", { path: "env/app", type: "env_bundle", value: "# app env\nDATABASE_URL=postgres://db/app\n\nAPI_TOKEN='tok-123456'\n" });
    const r = await call(mcp.client, "get_env_bundle", { path: "env/app" });
    expect(r.isError).toBe(false);
    expect(r.data.env).toEqual({ DATABASE_URL: "postgres://db/app", API_TOKEN: "tok-123456" });
    const wrongType = await call(mcp.client, "get_env_bundle", { path: "db/password" });
    expect(wrongType.isError).toBe(true);
    expect(wrongType.text).toContain("not an env_bundle");
    expect(wrongType.text).not.toContain("pw-db-0001");
  });

  test("delete_secret, then the 404 text points at list_secrets", async () => {
    await call(mcp.client, "put_secret", { path: "tmp/x", value: "temporary" });
    const del = await call(mcp.client, "delete_secret", { path: "tmp/x" });
    expect(del.data).toEqual({ deleted: true, path: "tmp/x" });
    const missing = await call(mcp.client, "get_secret", { path: "never/stored" });
    expect(missing.isError).toBe(true);
    expect(missing.text).toContain("use list_secrets to see available paths");
  });

  test("the 403 text asks for a policy (and a positive control on an allowed path)", async () => {
    const denied = await call(mcp.client, "put_secret", { path: "forbidden/x", value: "nope-nope" });
    expect(denied.isError).toBe(true);
    expect(denied.text).toContain("ask the user to grant this agent access via a policy");
    expect(denied.text).toContain("Server detail:");
    expect((await call(mcp.client, "put_secret", { path: "allowed/x", value: "yes-yes" })).isError).toBe(false);
  });

  test("create_vault, list_vaults, grant_access", async () => {
    const name = `mcp-${transport}-${Date.now()}`;
    const created = await call(mcp.client, "create_vault", { name, description: "made by an agent" });
    expect(created.isError).toBe(false);
    expect(created.data).toMatchObject({ name, description: "made by an agent" });
    const vaults = await call(mcp.client, "list_vaults");
    expect((vaults.data.vaults as Array<{ id: string }>).map((v) => v.id)).toContain(created.data.id);
    const granted = await call(mcp.client, "grant_access", { vault_id: created.data.id, principal_type: "user", principal_id: w.human.userId });
    expect(granted.isError).toBe(false);
    expect(granted.data).toMatchObject({ principal_type: "user", principal_id: w.human.userId, permissions: ["read"], secret_path_pattern: "**" });
    const dup = await call(mcp.client, "create_vault", { name });
    expect(dup.isError).toBe(true);
    expect(dup.text).toContain("Conflict");
  });

  test("share_secret shares with the agent's creator; a missing recipient_id is refused", async () => {
    await call(mcp.client, "put_secret", { path: "share/me", value: "shared-value" });
    const id = (await call(mcp.client, "describe_secret", { path: "share/me" })).data.id as string;
    const expires_at = new Date(Date.now() + 3600_000).toISOString();
    const shared = await call(mcp.client, "share_secret", { secret_id: id, recipient_type: "creator", expires_at });
    expect(shared.isError).toBe(false);
    expect(shared.data).toMatchObject({ recipient_type: "creator", max_access_count: 5 });
    expect(shared.data.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(shared.text).not.toContain("shared-value");
    const inbound = await w.api.get("/v1/shares/inbound");
    expect((inbound.body.shares as Array<{ id: string }>).map((x) => x.id)).toContain(shared.data.id);
    const noRecipient = await call(mcp.client, "share_secret", { secret_id: id, recipient_type: "user", expires_at });
    expect(noRecipient.isError).toBe(true);
  });

  test("invalid input is refused by the tool's schema", async () => {
    const r = await call(mcp.client, "get_secret", { path: "../etc/passwd" });
    expect(r.isError).toBe(true);
  });
});
