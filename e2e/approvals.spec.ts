import type { Browser } from "playwright-core";
import { describe, expect, test } from "vitest";
import { addVirtualAuthenticator, api, type App, newPage, PASSWORD, screenshot, signedInUser, useApp } from "./harness";

/**
 * Approvals in the dashboard (issue 14 item 3): an agent's read of a path whose policy requires
 * approval is refused with approval_required; the human finds the request on the Approvals page with
 * who, what and why, approves it for one hour, and the agent then reads. Break-glass from the vault page.
 */
const CANARY = `approval_e2e_${Math.random().toString(36).slice(2)}`;

let app: App;
let browser: Browser;
useApp((started) => ({ app, browser } = started));

describe("approvals", () => {
  test("agent request → human approves for an hour in the dashboard, confirming with their passkey → agent reads", async () => {
    const { page } = await newPage(browser, app);
    await addVirtualAuthenticator(page);
    const user = await signedInUser(page, app);
    const token = (await api(app, "POST", "/v1/auth/token", { body: { email: user.email, password: PASSWORD } })).body.access_token as string;
    // The approver has a passkey: approving asks for it (step-up).
    await page.goto("/account");
    await page.getByLabel("Passkey name").fill("Virtual authenticator");
    await page.getByRole("button", { name: "Add a passkey" }).click();
    await expect.poll(() => page.getByRole("list", { name: "Your passkeys" }).textContent()).toContain("Virtual authenticator");
    const vaultId = (await api(app, "POST", "/v1/vaults", { token, body: { name: "gated-vault" } })).body.id as string;
    expect((await api(app, "PUT", `/v1/vaults/${vaultId}/secrets/prod/db-password`, { token, body: { value: CANARY } })).status).toBe(201);
    const reg = await api(app, "POST", "/v1/agents", { token, body: { name: "deploy-bot" } });
    const agentId = (reg.body.agent as { id: string }).id;
    const agentToken = (await api(app, "POST", "/v1/auth/agent-token", { body: { agent_id: agentId, api_key: reg.body.api_key } })).body.access_token as string;
    // The gate is set with the policy editor's "Require a human's approval" box.
    await page.goto(`/policies?vault=${vaultId}`);
    await page.getByLabel("Principal type").selectOption("agent");
    await page.getByLabel("Principal", { exact: true }).selectOption({ label: "deploy-bot" });
    await page.getByLabel("Path pattern").fill("prod/*");
    await page.getByRole("checkbox", { name: /^Require a human's approval/ }).check();
    await page.getByRole("button", { name: "Grant access" }).click();
    const policies = page.getByRole("table", { name: "Policies" });
    await expect.poll(() => policies.textContent()).toContain("Needs a human's approval to read, write, use");
    const granted = (await api(app, "GET", `/v1/vaults/${vaultId}/policies`, { token })).body.policies as { require_approval?: unknown }[];
    expect(granted.map((p) => p.require_approval)).toEqual([{ actions: ["read", "write", "use"], transaction_above_eth: null }]);

    const res = await fetch(`${app.url}/v1/vaults/${vaultId}/secrets/prod/db-password`, { headers: { Authorization: `Bearer ${agentToken}`, "X-Approval-Reason": "run the schema migration" } });
    const asked = (await res.json()) as { type: string; approval_request_id: string; detail: string };
    expect(res.status).toBe(403);
    expect(asked.type).toBe("approval_required");
    expect(JSON.stringify(asked)).not.toContain(CANARY);
    const id = asked.approval_request_id;

    await page.goto("/approvals");
    const row = page.locator(`[data-approval-id="${id}"]`);
    await row.waitFor();
    const text = (await row.textContent())!;
    expect(text).toContain("deploy-bot");
    expect(text).toContain("prod/db-password");
    expect(text).toContain("run the schema migration");
    expect(text).toContain("pending");
    await screenshot(page, "approvals-pending");
    await row.getByRole("button", { name: "Approve" }).click();
    const dialog = page.getByRole("dialog", { name: "Approve this request?" });
    await dialog.getByLabel("How long").selectOption({ label: "For 1 hour" });
    // Without the passkey the REST route refuses this approver; the dialog runs the ceremony.
    expect((await api(app, "POST", `/v1/approvals/${id}/approve`, { token, body: {} })).status).toBe(403);
    await dialog.getByRole("button", { name: "Approve request" }).click();
    await expect.poll(async () => (await api(app, "GET", `/v1/approvals/${id}`, { token: agentToken })).body.status).toBe("approved");
    const approvedEvent = async () => ((await api(app, "GET", `/v1/audit/events?action=approval.approved`, { token })).body as { events?: { details?: Record<string, unknown> }[] }).events?.[0]?.details;
    await expect.poll(approvedEvent).toMatchObject({ step_up: "passkey", duration_seconds: 3600 });
    const history = page.getByRole("table", { name: "Approval history" });
    await expect.poll(() => history.textContent()).toContain("approved");

    for (let i = 0; i < 2; i++) {
      const read = await api(app, "GET", `/v1/vaults/${vaultId}/secrets/prod/db-password`, { token: agentToken });
      expect(read.status).toBe(200);
      expect(read.body.value).toBe(CANARY);
    }
    const polled = await api(app, "GET", `/v1/approvals/${id}`, { token: agentToken });
    expect(polled.body.grant_until).toBeTruthy();
    expect(await page.content()).not.toContain(CANARY);
  });

  test("an owner breaks glass on the vault page with a typed reason", async () => {
    const { page } = await newPage(browser, app);
    const user = await signedInUser(page, app);
    const token = (await api(app, "POST", "/v1/auth/token", { body: { email: user.email, password: PASSWORD } })).body.access_token as string;
    const vaultId = (await api(app, "POST", "/v1/vaults", { token, body: { name: "glass-vault" } })).body.id as string;
    await page.goto(`/vaults/${vaultId}`);
    await page.getByRole("button", { name: "Break glass" }).click();
    const dialog = page.getByRole("dialog", { name: "Break glass on this vault?" });
    const submit = dialog.getByRole("button", { name: "Break glass" });
    await dialog.getByLabel("Reason").fill("too short");
    expect(await submit.isDisabled()).toBe(true);
    await dialog.getByLabel("Reason").fill("INC-7: the deploy agent is down and the database password must be rotated by hand");
    await submit.click();
    await page.getByTestId("break-glass-active").waitFor();
    const grants = await api(app, "GET", `/v1/approvals?break_glass=true&vault_id=${vaultId}`, { token });
    expect((grants.body.approvals as { reason: string }[]).map((g) => g.reason)).toEqual([expect.stringContaining("INC-7")]);
    await page.goto("/approvals");
    await expect.poll(() => page.getByRole("table", { name: "Approval history" }).textContent()).toContain("Break-glass");
  });
});
