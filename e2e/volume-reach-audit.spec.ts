import { readFileSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { describe, expect, test } from "vitest";
import { api, type App, newPage, PASSWORD, screenshot, signedInUser, useApp } from "./harness";

/**
 * Issue 11 items 4, 6, 7 and 10 in Chromium, each checked against the API: the flat secret list,
 * .env import (preview, conflicts, Cancel writes nothing) and export (one audited read each), the
 * env_bundle editor; the agent page's reach, test access and MCP tabs; the audit page's names, filters,
 * details and exports; Recently deleted with Restore and typing a vault's name to delete it.
 */
let app: App;
let browser: Browser;
useApp((started) => ({ app, browser } = started));

type Json = Record<string, unknown>;

async function setup(page: Page, name: string) {
  const user = await signedInUser(page, app);
  const login = await api(app, "POST", "/v1/auth/token", { body: { email: user.email, password: PASSWORD } });
  expect(login.status).toBe(200);
  const token = login.body.access_token as string;
  const r = await api(app, "POST", "/v1/vaults", { token, body: { name } });
  expect(r.status).toBe(201);
  const vaultId = r.body.id as string;
  const put = async (path: string, body: Json) => expect((await api(app, "PUT", `/v1/vaults/${vaultId}/secrets/${path}`, { token, body })).status).toBe(201);
  const get = (path: string) => api(app, "GET", `/v1/vaults/${vaultId}/secrets/${path}`, { token });
  return { user, token, vaultId, put, get };
}

/** No page wider than a phone: nothing scrolls sideways at 375 px. */
async function fitsPhone(page: Page) {
  const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  expect(scroll).toBeLessThanOrEqual(client);
}

describe("secrets in volume", () => {
  test("flat list: search, filter by type and expiry, sort", async () => {
    const { page } = await newPage(browser, app);
    const { vaultId, put } = await setup(page, "volume");
    await put("db/main", { value: "a", type: "password" });
    await put("db/replica", { value: "b", type: "password", expires_at: new Date(Date.now() + 2 * 86400_000).toISOString() });
    await put("api/stripe", { value: "c", type: "api_key" });
    await put("deep/er/nested/token", { value: "d", type: "api_key", expires_at: new Date(Date.now() + 30 * 86400_000).toISOString() });

    await page.goto(`/vaults/${vaultId}`);
    await page.getByRole("link", { name: "All secrets (list)" }).click();
    await page.waitForURL(/view=list/);
    const rows = page.locator('[data-testid="secret-row"]');
    const paths = () => rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-path")));
    await expect.poll(paths).toEqual(["api/stripe", "db/main", "db/replica", "deep/er/nested/token"]);

    await page.getByLabel("Search paths").fill("db/");
    await expect.poll(paths).toEqual(["db/main", "db/replica"]);
    expect(await page.getByTestId("secret-count").textContent()).toBe("2 of 4 secrets");
    await page.getByLabel("Search paths").fill("");
    await page.getByLabel("Type", { exact: true }).selectOption("api_key");
    await expect.poll(paths).toEqual(["api/stripe", "deep/er/nested/token"]);
    await page.getByLabel("Type", { exact: true }).selectOption("");
    await page.getByLabel("Expiry").selectOption("soon");
    await expect.poll(paths).toEqual(["db/replica"]);
    await page.getByLabel("Expiry").selectOption("never");
    await expect.poll(paths).toEqual(["api/stripe", "db/main"]);
    await page.getByLabel("Expiry").selectOption("any");
    await page.getByLabel("Sort by").selectOption("expires:asc");
    await expect.poll(paths).toEqual(["db/replica", "deep/er/nested/token", "api/stripe", "db/main"]);
    await page.getByLabel("Sort by").selectOption("path:desc");
    await expect.poll(paths).toEqual(["deep/er/nested/token", "db/replica", "db/main", "api/stripe"]);
    // Every row keeps its actions in the flat view.
    await rows.first().getByRole("button", { name: "Reveal deep/er/nested/token" }).waitFor();
    await screenshot(page, "secrets-flat-list");

    const phone = await newPage(browser, app, { width: 375 });
    await phone.context.addCookies(await page.context().cookies());
    await phone.page.goto(`/vaults/${vaultId}?view=list`);
    await phone.page.locator('[data-testid="secret-row"]').first().waitFor();
    await fitsPhone(phone.page);
    await phone.context.close();
  }, 120_000);

  test("import a .env: preview with conflicts, Cancel writes nothing, Import writes one version each", async () => {
    const { page } = await newPage(browser, app, { width: 1440 });
    const { token, vaultId, put, get } = await setup(page, "import");
    await put("app/DATABASE_URL", { value: "old-url", type: "password", metadata: { team: "db" } });
    await page.goto(`/vaults/${vaultId}`);

    const envText = ["# app settings", "DATABASE_URL=postgres://new", 'STRIPE_KEY="sk_test_123 # not a comment"', "not a line", "2BAD=x"].join("\n");
    await page.getByRole("button", { name: "Import .env" }).click();
    const dialog = page.getByRole("dialog", { name: "Import from .env" });
    await dialog.getByLabel("Into folder").fill("app");
    await dialog.getByLabel("Or paste it").fill(envText);
    await dialog.getByRole("button", { name: "Preview" }).click();
    const preview = dialog.getByTestId("import-preview");
    await preview.waitFor();
    const row = (path: string) => preview.locator(`[data-testid="import-row"][data-path="${path}"]`);
    expect(await row("app/DATABASE_URL").getAttribute("data-status")).toBe("exists");
    expect(await row("app/DATABASE_URL").textContent()).toContain("Exists — stored as version 2");
    expect(await row("app/STRIPE_KEY").getAttribute("data-status")).toBe("new");
    expect(await preview.textContent()).toContain("line 4: expected KEY=VALUE");
    expect(await preview.textContent()).toContain("line 5: invalid variable name");
    expect(await preview.textContent()).not.toContain("sk_test_123");
    await screenshot(page, "import-env-preview");

    // Cancel: nothing written.
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "hidden" });
    expect((await get("app/DATABASE_URL")).body.version).toBe(1);
    expect((await get("app/STRIPE_KEY")).status).toBe(404);

    // Upload the same file this time, then import.
    await page.getByRole("button", { name: "Import .env" }).click();
    await dialog.getByLabel("Into folder").fill("app/");
    await dialog.getByLabel("Upload a .env file").setInputFiles({ name: ".env", mimeType: "text/plain", buffer: Buffer.from(envText) });
    await expect.poll(() => dialog.getByLabel("Or paste it").inputValue()).toContain("STRIPE_KEY");
    await dialog.getByLabel("Type of new secrets").selectOption("api_key");
    await dialog.getByRole("button", { name: "Preview" }).click();
    await dialog.getByRole("button", { name: "Import 2 secrets" }).click();
    await dialog.getByText("Imported 2 secrets").waitFor();
    expect((await get("app/DATABASE_URL")).body).toMatchObject({ value: "postgres://new", version: 2, type: "password", metadata: { team: "db" } });
    expect((await get("app/STRIPE_KEY")).body).toMatchObject({ value: "sk_test_123 # not a comment", version: 1, type: "api_key" });
    const writes = await api(app, "GET", "/v1/audit/events?action=secret.write&path=app/&limit=50", { token });
    expect(writes.body.count).toBe(3);
    expect(JSON.stringify(writes.body)).not.toContain("sk_test_123");
  }, 120_000);

  test("export a folder as .env and JSON: one audited read per secret, no value in the audit log", async () => {
    const { page } = await newPage(browser, app);
    const { token, vaultId, put } = await setup(page, "export");
    await put("svc/API_TOKEN", { value: "tok-canary-1" });
    await put("svc/PASSWORD", { value: "p w#canary-2", type: "password" });
    await put("svc/ONCE", { value: "once-canary-3", max_access_count: 1 });
    await put("other", { value: "outside-canary-4" });
    await page.goto(`/vaults/${vaultId}?prefix=svc%2F`);

    const [envDownload] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export .env" }).click()]);
    expect(envDownload.suggestedFilename()).toBe("export-svc.env");
    const envText = readFileSync((await envDownload.path())!, "utf8");
    expect(envText).toBe('API_TOKEN=tok-canary-1\nPASSWORD="p w#canary-2"\n');
    const result = page.getByTestId("export-result");
    await result.waitFor();
    expect(await result.textContent()).toContain("Exported 2 secrets");
    expect(await result.textContent()).toContain("svc/ONCE not exported: read-limited");
    await screenshot(page, "export-folder");

    const [jsonDownload] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export JSON" }).click()]);
    expect(JSON.parse(readFileSync((await jsonDownload.path())!, "utf8"))).toEqual({ API_TOKEN: "tok-canary-1", PASSWORD: "p w#canary-2" });

    const reads = await api(app, "GET", "/v1/audit/events?action=secret.read&limit=50", { token });
    const readPaths = (reads.body.events as { details: { path: string } }[]).map((e) => e.details.path).sort();
    expect(readPaths).toEqual(["svc/API_TOKEN", "svc/API_TOKEN", "svc/PASSWORD", "svc/PASSWORD"]);
    const all = await api(app, "GET", "/v1/audit/events?limit=1000", { token });
    expect(JSON.stringify(all.body)).not.toMatch(/canary-\d/);
    expect((await api(app, "GET", `/v1/vaults/${vaultId}/secrets/svc/ONCE`, { token })).body.value).toBe("once-canary-3");
  }, 120_000);

  test("env_bundle key/value editor stores KEY=VALUE lines", async () => {
    const { page } = await newPage(browser, app);
    const { get, vaultId } = await setup(page, "bundle");
    await page.goto(`/vaults/${vaultId}`);
    await page.getByRole("button", { name: "New secret" }).click();
    const dialog = page.getByRole("dialog", { name: "New secret" });
    await dialog.getByLabel("Path").fill("app/env");
    await dialog.getByLabel("Type").selectOption("env_bundle");
    const editor = dialog.getByTestId("env-bundle-editor");
    await editor.getByLabel("Variable 1 name").fill("DB_HOST");
    await editor.getByLabel("Variable 1 value").fill("db.internal");
    await editor.getByRole("button", { name: "Add variable" }).click();
    await editor.getByLabel("Variable 2 name").fill("2BAD");
    await editor.getByText("Letters, digits and _, not starting with a digit").waitFor();
    await editor.getByLabel("Variable 2 name").fill("DB_PASS");
    await editor.getByLabel("Variable 2 value").fill(" spaced ");
    await screenshot(page, "env-bundle-editor");
    await dialog.getByRole("button", { name: "Save secret" }).click();
    await dialog.waitFor({ state: "hidden" });
    expect((await get("app/env")).body).toMatchObject({ type: "env_bundle", value: 'DB_HOST=db.internal\nDB_PASS=" spaced "' });
  }, 120_000);
});

describe("recently deleted and vault deletion", () => {
  test("a deleted secret is restored from Recently deleted; a vault is deleted only after typing its name", async () => {
    const { page } = await newPage(browser, app);
    const { vaultId, put, get, token } = await setup(page, "to-delete");
    await put("keep/me", { value: "v1" });
    await put("keep/me", { value: "v2" });
    expect((await api(app, "DELETE", `/v1/vaults/${vaultId}/secrets/keep/me`, { token })).status).toBe(204);

    await page.goto(`/vaults/${vaultId}`);
    await page.getByRole("link", { name: "Recently deleted" }).click();
    await page.waitForURL(/\/deleted$/);
    const row = page.locator('[data-testid="deleted-row"][data-path="keep/me"]');
    await row.waitFor();
    expect(await row.textContent()).toContain("v2");
    await screenshot(page, "recently-deleted");
    await row.getByRole("button", { name: "Restore keep/me" }).click();
    await page.getByRole("dialog", { name: "Restore keep/me?" }).getByRole("button", { name: "Restore" }).click();
    await page.getByText("Nothing deleted recently").waitFor();
    expect((await get("keep/me")).body).toMatchObject({ value: "v2", version: 2 });

    await page.goto(`/vaults/${vaultId}`);
    await page.getByRole("button", { name: "Delete vault" }).click();
    const dialog = page.getByRole("dialog", { name: "Delete vault to-delete?" });
    const confirm = dialog.getByRole("button", { name: "Delete this vault" });
    expect(await confirm.isDisabled()).toBe(true);
    await dialog.getByLabel(/Type the vault's name/).fill("to-delet");
    expect(await confirm.isDisabled()).toBe(true);
    await dialog.getByLabel(/Type the vault's name/).press("Enter");
    expect((await api(app, "GET", `/v1/vaults/${vaultId}`, { token })).status).toBe(200);
    await dialog.getByLabel(/Type the vault's name/).fill("to-delete");
    await screenshot(page, "delete-vault-typed");
    await confirm.click();
    await page.waitForURL(/\/vaults$/);
    expect((await api(app, "GET", `/v1/vaults/${vaultId}`, { token })).status).toBe(404);
  }, 120_000);
});

describe("agent reach", () => {
  test("policies across vaults, readable paths, test access, MCP tabs and recent activity", async () => {
    const { page } = await newPage(browser, app, { width: 1440 });
    const { token, vaultId, put } = await setup(page, "reach-vault");
    await put("api-keys/stripe", { value: "s" });
    await put("api-keys/github", { value: "g" });
    await put("db/password", { value: "d" });
    const reg = await api(app, "POST", "/v1/agents", { token, body: { name: "reach-bot" } });
    expect(reg.status).toBe(201);
    const agentId = (reg.body.agent as Json).id as string;
    const apiKey = reg.body.api_key as string;
    const grant = (pattern: string, effect = "allow") =>
      api(app, "POST", `/v1/vaults/${vaultId}/policies`, { token, body: { principal_type: "agent", principal_id: agentId, secret_path_pattern: pattern, permissions: ["read"], effect } });
    expect((await grant("api-keys/*")).status).toBe(201);
    expect((await grant("api-keys/github", "deny")).status).toBe(201);
    // One read by the agent, for its activity.
    const agentToken = (await api(app, "POST", "/v1/auth/agent-token", { body: { agent_id: agentId, api_key: apiKey } })).body.access_token as string;
    expect((await api(app, "GET", `/v1/vaults/${vaultId}/secrets/api-keys/stripe`, { token: agentToken })).status).toBe(200);
    expect((await api(app, "GET", `/v1/vaults/${vaultId}/secrets/api-keys/github`, { token: agentToken })).status).toBe(403);

    await page.goto(`/agents/${agentId}`);
    const policies = page.getByRole("table", { name: "Agent policies" });
    await policies.waitFor();
    expect(await policies.textContent()).toContain("reach-vault");
    expect(await policies.textContent()).toContain("api-keys/github");
    const reachPaths = await page.locator('[data-testid="reach-vault"][data-vault="reach-vault"] [data-testid="reach-path"]').allTextContents();
    expect(reachPaths).toEqual(["api-keys/stripe"]);

    await page.getByLabel("Secret path").fill("api-keys/github");
    await page.getByRole("button", { name: "Test access" }).click();
    const verdict = page.getByTestId("access-verdict");
    await verdict.waitFor();
    expect(await verdict.textContent()).toContain("read: refused");
    expect(await verdict.textContent()).toContain("A policy denies you read access");
    await page.getByLabel("Secret path").fill("api-keys/stripe");
    await page.getByRole("button", { name: "Test access" }).click();
    await expect.poll(() => verdict.textContent()).toContain("read: allowed");
    expect(await verdict.textContent()).toContain("write: refused");

    // MCP tabs, each with its copy button; the key is a placeholder here (shown only once).
    const tabs = page.getByRole("tablist", { name: "MCP client" });
    for (const name of ["Claude Desktop", "Cursor", "Claude Code", "Hosted HTTP", "stdio (talon-mcp)"]) await tabs.getByRole("tab", { name }).waitFor();
    const desktop = JSON.parse((await page.getByTestId("agent-mcp-config").textContent())!) as { mcpServers: { talon: { command: string; args: string[]; env: Record<string, string> } } };
    expect(desktop.mcpServers.talon).toMatchObject({ command: "npx", args: ["-y", "talon-mcp"], env: { ONECLAW_AGENT_ID: agentId, ONECLAW_VAULT_ID: vaultId, ONECLAW_BASE_URL: app.url } });
    await tabs.getByRole("tab", { name: "Cursor" }).click();
    const cursor = JSON.parse((await page.getByTestId("mcp-config-cursor").textContent())!) as { mcpServers: { talon: { url: string; headers: Record<string, string> } } };
    expect(cursor.mcpServers.talon.url).toBe(`${app.url}/mcp`);
    expect(cursor.mcpServers.talon.headers["X-Vault-ID"]).toBe(vaultId);
    await page.getByRole("button", { name: "Copy Cursor config" }).click();
    await expect.poll(async () => JSON.parse((await page.evaluate(() => navigator.clipboard.readText())) || "null")).toEqual(cursor);
    await tabs.getByRole("tab", { name: "Cursor" }).press("ArrowRight");
    expect(await tabs.getByRole("tab", { name: "Claude Code" }).getAttribute("aria-selected")).toBe("true");
    expect(await page.getByTestId("mcp-config-claude-code").textContent()).toContain(`claude mcp add --transport http talon '${app.url}/mcp'`);
    expect(await page.content()).not.toContain(apiKey);

    const activity = page.getByRole("list", { name: "Agent activity" });
    await expect.poll(async () => activity.locator('[data-field="action"]').allTextContents()).toContain("secret.read");
    expect(await activity.textContent()).toContain("reach-bot");
    await screenshot(page, "agent-reach");

    const phone = await newPage(browser, app, { width: 375 });
    await phone.context.addCookies(await page.context().cookies());
    await phone.page.goto(`/agents/${agentId}`);
    await phone.page.getByRole("table", { name: "Agent policies" }).waitFor();
    await fitsPhone(phone.page);
    await phone.context.close();
  }, 120_000);
});

describe("audit for reviewers", () => {
  test("names and links, actor/action/path filters, details, and CSV/NDJSON exports of the range", async () => {
    const { page } = await newPage(browser, app, { width: 1440 });
    const { user, token, vaultId, put } = await setup(page, "audited");
    await put("db/main", { value: "x" });
    await put("web/key", { value: "y" });
    const reg = await api(app, "POST", "/v1/agents", { token, body: { name: "audit-bot" } });
    const agentId = (reg.body.agent as Json).id as string;
    await api(app, "POST", `/v1/vaults/${vaultId}/policies`, { token, body: { principal_type: "agent", principal_id: agentId, secret_path_pattern: "db/*", permissions: ["read"] } });
    const agentToken = (await api(app, "POST", "/v1/auth/agent-token", { body: { agent_id: agentId, api_key: reg.body.api_key } })).body.access_token as string;
    expect((await api(app, "GET", `/v1/vaults/${vaultId}/secrets/db/main`, { token: agentToken })).status).toBe(200);

    await page.goto("/audit");
    const events = page.getByRole("list", { name: "Audit events" });
    await events.locator("[data-event-id]").first().waitFor();
    // Names, not ids: the agent linked by name, the member by email, secrets by path.
    expect(await events.getByRole("link", { name: "audit-bot" }).first().getAttribute("href")).toBe(`/agents/${agentId}`);
    expect(await events.textContent()).toContain(user.email);
    expect(await events.getByRole("link", { name: "db/main" }).first().getAttribute("href")).toBe(`/vaults/${vaultId}?prefix=db%2F`);
    expect(await events.getByRole("link", { name: "audited" }).first().getAttribute("href")).toBe(`/vaults/${vaultId}`);

    // Actor filter by name.
    await page.getByLabel("Actor").selectOption({ label: "audit-bot (agent)" });
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/actor_id=agent%3A/);
    const actions = () => events.locator('[data-field="action"]').allTextContents();
    // Its token exchange, then its read: newest first.
    await expect.poll(actions).toEqual(["secret.read", "auth.success"]);

    // Path filter with an action.
    await page.goto("/audit?path=web%2F");
    await expect.poll(actions).toEqual(["secret.write"]);
    await page.goto("/audit?path=db%2F&action=secret.write");
    await expect.poll(actions).toEqual(["secret.write"]);
    const row = events.locator("[data-event-id]").first();
    expect(await row.locator("dl").isVisible()).toBe(false);
    await row.locator("summary", { hasText: "Details" }).click();
    expect(await row.locator("dl").textContent()).toContain(`"vault_id": "${vaultId}"`);
    expect(await row.locator("dl").isVisible()).toBe(true);
    await screenshot(page, "audit-reviewers");

    // Exports: the whole range by default, through the session.
    await page.goto("/audit");
    const [csv] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Export CSV" }).click()]);
    const csvText = readFileSync((await csv.path())!, "utf8");
    expect(csvText.split("\r\n")[0]).toBe("seq,id,created_at,org_id,action,actor,actor_type,resource_type,resource_id,details,ip_address,request_id,prev_hash,hash");
    expect(csvText).toContain("secret.read");
    const [nd] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Export NDJSON" }).click()]);
    const lines = readFileSync((await nd.path())!, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { action: string; created_at: string });
    expect(lines.some((l) => l.action === "secret.read")).toBe(true);
    // A time range in the future exports nothing but is still recorded.
    const future = new Date(Date.now() + 86400_000).toISOString().slice(0, 16);
    await page.goto(`/audit?from=${future}`);
    const [empty] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Export NDJSON" }).click()]);
    expect(readFileSync((await empty.path())!, "utf8")).toBe("");
    const exports = await api(app, "GET", "/v1/audit/events?action=audit.export&limit=10", { token });
    expect(exports.body.count).toBe(3);

    // Without a session the export is refused.
    const anon = await fetch(`${app.url}/audit/export?format=csv`);
    expect(anon.status).toBe(401);

    const phone = await newPage(browser, app, { width: 375 });
    await phone.context.addCookies(await page.context().cookies());
    await phone.page.goto("/audit");
    await phone.page.getByRole("list", { name: "Audit events" }).locator("[data-event-id]").first().waitFor();
    await fitsPhone(phone.page);
    await screenshot(phone.page, "audit-phone");
    await phone.context.close();
  }, 120_000);
});
