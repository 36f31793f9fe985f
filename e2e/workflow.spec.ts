import type { Browser, Page } from "playwright-core";
import { describe, expect, test } from "vitest";
import { api, type App, newPage, screenshot, signedInUser, useApp } from "./harness";

/**
 * The human's whole job in the browser, proved over the API: a vault and secrets, an agent and its
 * key, a policy that lets the agent read exactly what it grants, revocation that takes effect on the
 * agent's next call, the reads in the audit log, and no secret value in any page it was not asked for.
 */
const GRANTED = `sk_live_granted_${Math.random().toString(36).slice(2)}`;
const WITHHELD = `db_withheld_${Math.random().toString(36).slice(2)}`;

let app: App;
let browser: Browser;
useApp((started) => ({ app, browser } = started));

async function newSecret(page: Page, path: string, value: string) {
  await page.getByRole("button", { name: "New secret" }).click();
  const dialog = page.getByRole("dialog", { name: "New secret" });
  await dialog.getByLabel("Path").fill(path);
  await dialog.getByLabel("Value", { exact: true }).fill(value);
  await dialog.getByRole("button", { name: "Save secret" }).click();
  await page.locator(`[data-testid="secret-row"][data-path="${path}"]`).waitFor();
}

describe("vaults, agents and policies in the browser", () => {
  test("a policy granted in the UI lets the agent read exactly what it covers, until it is revoked in the UI", async () => {
    const { context, page } = await newPage(browser, app);
    const user = await signedInUser(page, app);

    // A vault with two secrets.
    await page.getByLabel("Name").fill("production");
    await page.getByRole("button", { name: "Create vault" }).click();
    // Creating a vault opens it.
    await page.waitForURL(/\/vaults\/[0-9a-f-]{36}/);
    const vaultId = /\/vaults\/([0-9a-f-]{36})/.exec(page.url())![1]!;
    await newSecret(page, "api-keys/stripe", GRANTED);
    await newSecret(page, "db/password", WITHHELD);

    // Masked until revealed, and revealing is a read the user asked for.
    await page.goto(`/vaults/${vaultId}`);
    const html = await page.content();
    expect(html).not.toContain(GRANTED);
    expect(html).not.toContain(WITHHELD);
    await page.getByRole("list", { name: "Folders" }).getByRole("link", { name: /api-keys/ }).click();
    await page.waitForURL(/prefix=api-keys/);
    expect(await page.content()).not.toContain(GRANTED);
    await screenshot(page, "05-vault-secrets");
    const row = page.locator('[data-testid="secret-row"][data-path="api-keys/stripe"]');
    await row.getByRole("button", { name: "Reveal" }).click();
    await expect.poll(() => row.getByTestId("secret-value").textContent()).toBe(GRANTED);
    await row.getByRole("button", { name: "Copy" }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(GRANTED);
    await screenshot(page, "06-secret-revealed");

    // An agent: the key shown once, copied, with a ready MCP config.
    await page.goto("/agents");
    await page.getByLabel("Name").fill("deploy-bot");
    await page.getByRole("button", { name: "Register agent" }).click();
    const panel = page.getByTestId("agent-key-panel");
    await panel.waitFor();
    const apiKey = (await panel.getByTestId("agent-api-key").textContent())!.trim();
    expect(apiKey).toMatch(/^ocv_/);
    await panel.getByRole("button", { name: "Copy key" }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(apiKey);
    const mcp = JSON.parse((await panel.getByTestId("agent-mcp-config").textContent())!) as { mcpServers: Record<string, { env: Record<string, string> }> };
    const env = Object.values(mcp.mcpServers)[0]!.env;
    expect(env.ONECLAW_AGENT_API_KEY).toBe(apiKey);
    expect(env.ONECLAW_BASE_URL).toBe(app.url);
    const agentId = env.ONECLAW_AGENT_ID!;
    await screenshot(page, "07-agent-registered");
    await panel.getByRole("button", { name: "I saved the key" }).click();
    await page.reload();
    expect(await page.content()).not.toContain(apiKey);

    // Before any policy, the agent reads nothing.
    const agentToken = async () => {
      const r = await api(app, "POST", "/v1/auth/agent-token", { body: { agent_id: agentId, api_key: apiKey } });
      return { status: r.status, token: r.body.access_token as string };
    };
    const read = async (token: string, path: string) => api(app, "GET", `/v1/vaults/${vaultId}/secrets/${path}`, { token });
    const t0 = await agentToken();
    expect(t0.status).toBe(200);
    expect((await read(t0.token, "api-keys/stripe")).status).toBe(403);

    // Grant read on api-keys/* in the policies page; the preview shows what it will match.
    await page.goto(`/policies?vault=${vaultId}`);
    await page.getByLabel("Principal type").selectOption("agent");
    await page.getByLabel("Principal", { exact: true }).selectOption({ label: "deploy-bot" });
    await page.getByLabel("Path pattern").fill("api-keys/*");
    await expect.poll(() => page.getByTestId("path-preview").textContent()).toContain("Matches 1 of 2");
    await page.getByRole("checkbox", { name: /^Read/ }).check();
    await page.getByRole("button", { name: "Grant access" }).click();
    const policies = page.getByRole("table", { name: "Policies" });
    await expect.poll(() => policies.textContent()).toContain("api-keys/*");
    await screenshot(page, "08-policy-granted");

    // Exactly what the policy allows: the granted path, not the other one, not writes.
    const t1 = await agentToken();
    const granted = await read(t1.token, "api-keys/stripe");
    expect(granted.status).toBe(200);
    expect(granted.body.value).toBe(GRANTED);
    expect((await read(t1.token, "db/password")).status).toBe(403);
    expect((await api(app, "PUT", `/v1/vaults/${vaultId}/secrets/api-keys/new`, { token: t1.token, body: { value: "x" } })).status).toBe(403);

    // Revoke in the UI: the agent's very next call fails.
    await policies.getByRole("button", { name: "Revoke" }).click();
    await page.getByRole("button", { name: "Revoke access" }).click();
    await expect.poll(() => page.getByRole("table", { name: "Policies" }).count()).toBe(0);
    expect((await read(t1.token, "api-keys/stripe")).status).toBe(403);

    // Deactivating the agent in the UI kills its token and its key at once.
    await page.goto(`/agents/${agentId}`);
    await page.getByRole("button", { name: "Deactivate" }).click();
    await page.getByRole("button", { name: "Reactivate" }).waitFor();
    expect((await read(t1.token, "api-keys/stripe")).status).toBe(401);
    expect((await agentToken()).status).toBe(401);

    // The reads are in the audit log: the user's reveal and the agent's read.
    await page.goto("/audit");
    await page.getByLabel("Action").fill("secret.read");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/action=secret\.read/);
    const events = page.getByRole("list", { name: "Audit events" });
    await expect.poll(async () => events.locator("[data-event-id]").count()).toBeGreaterThanOrEqual(2);
    const text = (await events.textContent())!;
    expect(text).toContain("deploy-bot");
    expect(text).toContain(user.email);
    await screenshot(page, "09-audit-log");

    // Planted values appear on no page the user did not ask to reveal them on.
    for (const p of ["/vaults", `/vaults/${vaultId}`, "/agents", `/agents/${agentId}`, `/policies?vault=${vaultId}`, "/shares", "/audit", "/billing", "/org", "/security", "/account"]) {
      await page.goto(p);
      await page.getByRole("heading", { level: 1 }).first().waitFor();
      const content = await page.content();
      for (const canary of [GRANTED, WITHHELD, apiKey, user.password]) expect(content, `${p} shows a secret`).not.toContain(canary);
    }
    await context.close();
  }, 180_000);

  test("works on a 375 px phone screen: no sideways scrolling, navigation behind a menu", async () => {
    const { context, page } = await newPage(browser, app, { width: 375 });
    await signedInUser(page, app);
    for (const p of ["/vaults", "/agents", "/policies", "/audit", "/billing", "/account"]) {
      await page.goto(p);
      await page.getByRole("heading", { level: 1 }).first().waitFor();
      expect(await page.evaluate(() => document.documentElement.scrollWidth), p).toBeLessThanOrEqual(375);
    }
    await page.getByRole("button", { name: "Menu" }).click();
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Agents" }).click();
    await page.waitForURL("**/agents");
    await page.getByRole("heading", { level: 1, name: "Agents" }).waitFor();
    await screenshot(page, "10-mobile-agents");
    await context.close();
  }, 120_000);
});
