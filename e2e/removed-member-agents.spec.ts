import type { Browser } from "playwright-core";
import { describe, expect, test } from "vitest";
import { api, type App, mailTo, newPage, PASSWORD, screenshot, signedInUser, uniqueEmail, useApp } from "./harness";

/**
 * Removing a member in the dashboard deactivates the agents they registered; the owner sees why on
 * the agents pages, hands the agent to a remaining member and reactivates it, each step proved over
 * the API.
 */
let app: App;
let browser: Browser;
useApp((started) => ({ app, browser } = started));

/** Invited over the API by the owner, accepted over the API: the new member's id and access token. */
async function invitedMember(ownerToken: string, email: string): Promise<{ id: string; token: string }> {
  expect((await api(app, "POST", "/v1/org/invitations", { token: ownerToken, body: { email } })).status).toBe(201);
  const token = decodeURIComponent(/\/invite#token=([A-Za-z0-9_%-]+)/.exec(mailTo(app, email))![1]!);
  const accepted = await api(app, "POST", "/v1/org/invitations/accept", { body: { token, password: PASSWORD } });
  expect(accepted.status).toBe(201);
  const access = accepted.body.access_token as string;
  const me = await api(app, "GET", "/v1/auth/me", { token: access });
  return { id: me.body.id as string, token: access };
}

describe("agents of a removed member", () => {
  test("are deactivated with the reason shown; the owner reassigns and reactivates them in the UI", async () => {
    const { page } = await newPage(browser, app);
    const owner = await signedInUser(page, app);
    const ownerToken = (await api(app, "POST", "/v1/auth/token", { body: { email: owner.email, password: owner.password } })).body.access_token as string;
    const leavingEmail = uniqueEmail("leaving");
    const stayingEmail = uniqueEmail("staying");
    const leaving = await invitedMember(ownerToken, leavingEmail);
    const staying = await invitedMember(ownerToken, stayingEmail);

    const registered = await api(app, "POST", "/v1/agents", { token: leaving.token, body: { name: "leavers-bot" } });
    expect(registered.status).toBe(201);
    const agentId = (registered.body.agent as { id: string }).id;
    const apiKey = registered.body.api_key as string;
    const exchange = () => api(app, "POST", "/v1/auth/agent-token", { body: { agent_id: agentId, api_key: apiKey } });
    expect((await exchange()).status).toBe(200);

    // Remove the member on /org; the dialog says what happens to their agents.
    await page.goto("/org");
    const row = page.getByRole("table", { name: "Members" }).getByRole("row").filter({ hasText: leavingEmail });
    await row.getByRole("button", { name: "Remove" }).click();
    const dialog = page.getByRole("dialog", { name: `Remove ${leavingEmail}?` });
    await expect.poll(() => dialog.textContent()).toContain("agents they registered are deactivated");
    await dialog.getByRole("button", { name: "Remove member" }).click();
    await expect.poll(() => page.getByRole("table", { name: "Members" }).textContent()).not.toContain(leavingEmail);
    expect((await exchange()).status).toBe(401);

    // The agents list and the agent's page say why it is inactive.
    await page.goto("/agents");
    const agentRow = page.getByRole("table", { name: "Agents" }).getByRole("row").filter({ hasText: "leavers-bot" });
    await expect.poll(() => agentRow.textContent()).toContain("registered by a removed member");
    await agentRow.getByRole("link", { name: "leavers-bot" }).click();
    await page.waitForURL(`**/agents/${agentId}`);
    await page.getByText("Reason: registered by a removed member.").waitFor();
    await screenshot(page, "20-agent-of-removed-member");

    // Hand it to the remaining member…
    await page.getByLabel("Registered by").selectOption({ label: stayingEmail });
    await page.getByRole("button", { name: "Reassign" }).click();
    await expect.poll(async () => (await api(app, "GET", `/v1/agents/${agentId}`, { token: ownerToken })).body.created_by).toBe(staying.id);
    // …and reactivate it: its key works again, the reason is gone.
    await page.getByRole("button", { name: "Reactivate" }).click();
    await page.getByRole("button", { name: "Deactivate" }).waitFor();
    const after = await api(app, "GET", `/v1/agents/${agentId}`, { token: ownerToken });
    expect(after.body).toMatchObject({ is_active: true, deactivated_reason: null, created_by: staying.id });
    expect((await exchange()).status).toBe(200);
    expect(await page.getByText("registered by a removed member").count()).toBe(0);
  });
});
