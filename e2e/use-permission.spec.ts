import type { Browser } from "playwright-core";
import { describe, expect, test } from "vitest";
import { api, type App, newPage, PASSWORD, signedInUser, useApp } from "./harness";

/**
 * The `use` permission in the dashboard (issue 14 item 1): a human grants an agent `use` alone with the
 * policy editor's checkbox; the agent then lists the path but is refused its value with a 403 naming
 * the permission, and the agent's page shows the path as "use only" and test access says why.
 */
const CANARY = `use_e2e_${Math.random().toString(36).slice(2)}`;

let app: App;
let browser: Browser;
useApp((started) => ({ app, browser } = started));

describe("use permission in the policy editor", () => {
  test("a use-only grant made with the checkbox: listed, never read, marked use only on the agent's page", async () => {
    const { page } = await newPage(browser, app);
    const user = await signedInUser(page, app);
    const token = (await api(app, "POST", "/v1/auth/token", { body: { email: user.email, password: PASSWORD } })).body.access_token as string;
    const vaultId = (await api(app, "POST", "/v1/vaults", { token, body: { name: "use-vault" } })).body.id as string;
    expect((await api(app, "PUT", `/v1/vaults/${vaultId}/secrets/svc/api-key`, { token, body: { value: CANARY } })).status).toBe(201);
    const reg = await api(app, "POST", "/v1/agents", { token, body: { name: "use-bot" } });
    const agentId = (reg.body.agent as { id: string }).id;
    const agentToken = (await api(app, "POST", "/v1/auth/agent-token", { body: { agent_id: agentId, api_key: reg.body.api_key } })).body.access_token as string;

    await page.goto(`/policies?vault=${vaultId}`);
    await page.getByLabel("Principal type").selectOption("agent");
    await page.getByLabel("Principal", { exact: true }).selectOption({ label: "use-bot" });
    await page.getByLabel("Path pattern").fill("svc/*");
    await page.getByRole("checkbox", { name: /^Read/ }).uncheck();
    const use = page.getByRole("checkbox", { name: /^Use/ });
    expect(await page.getByText("Talon uses the value for them").count()).toBe(1);
    await use.check();
    await page.getByRole("button", { name: "Grant access" }).click();
    const policies = page.getByRole("table", { name: "Policies" });
    await expect.poll(() => policies.textContent()).toContain("svc/*");
    const permissions = (await api(app, "GET", `/v1/vaults/${vaultId}/policies`, { token })).body.policies as { permissions: string[] }[];
    expect(permissions.map((p) => p.permissions)).toEqual([["use"]]);
    expect(await policies.textContent()).toContain("use");

    // The agent may list the path, never read it; the refusal names the permission.
    const list = await api(app, "GET", `/v1/vaults/${vaultId}/secrets`, { token: agentToken });
    expect((list.body.secrets as { path: string }[]).map((s) => s.path)).toEqual(["svc/api-key"]);
    const read = await api(app, "GET", `/v1/vaults/${vaultId}/secrets/svc/api-key`, { token: agentToken });
    expect(read.status).toBe(403);
    expect(read.body.detail).toContain("You hold `use` on this path, not `read`");
    expect(JSON.stringify(read.body)).not.toContain(CANARY);

    // The agent's page: the path is reachable for use only; test access gives the three verdicts.
    await page.goto(`/agents/${agentId}`);
    const path = page.locator('[data-testid="reach-vault"][data-vault="use-vault"] [data-testid="reach-path"]');
    await path.first().waitFor();
    expect(await path.allTextContents()).toEqual([expect.stringContaining("use only")]);
    await page.getByLabel("Secret path").fill("svc/api-key");
    await page.getByRole("button", { name: "Test access" }).click();
    const verdict = page.getByTestId("access-verdict");
    await verdict.waitFor();
    const text = (await verdict.textContent())!;
    expect(text).toContain("read: refused");
    expect(text).toContain("use: allowed");
    expect(text).toContain("write: refused");
    expect(await page.content()).not.toContain(CANARY);
  });
});
