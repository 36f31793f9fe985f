import type { Browser, Page } from "playwright-core";
import { describe, expect, test } from "vitest";
import { api, type App, mailTo, newPage, PASSWORD, screenshot, signedInUser, signIn, uniqueEmail, useApp } from "./harness";

/**
 * Shares, the audit log and billing as a person uses them, each checked against the API: a share
 * accepted, revealed (using up its only read) and revoked in the pages; the audit log filtered and
 * paged; the plan, usage and overage method of a fresh org. The app runs with TALON_BILLING=on (a
 * reseller's server): with the default, off, there is no plan or overage method to show.
 */
const SHARED = `shared_${Math.random().toString(36).slice(2)}`;

let app: App;
let browser: Browser;
useApp((started) => ({ app, browser } = started), { TALON_BILLING: "on" });

const inDays = (d: number) => new Date(Date.now() + d * 86_400_000).toISOString();

/** A user token for someone who signed up in the browser, for setting up data over the API. */
async function tokenFor(email: string): Promise<string> {
  const r = await api(app, "POST", "/v1/auth/token", { body: { email, password: PASSWORD } });
  expect(r.status).toBe(200);
  return r.body.access_token as string;
}

async function newVault(token: string, name: string): Promise<string> {
  const r = await api(app, "POST", "/v1/vaults", { token, body: { name } });
  expect(r.status).toBe(201);
  return r.body.id as string;
}

/** The signed-in user's page, once the page's main heading is there. */
async function open(page: Page, path: string) {
  await page.goto(path);
  await page.getByRole("heading", { level: 1 }).first().waitFor();
}

describe("shares, audit and billing in the browser", () => {
  test("a share to a colleague: accepted and revealed once by them, revoked by its sender", async () => {
    const a = await newPage(browser, app);
    const sender = await signedInUser(a.page, app);
    const senderToken = await tokenFor(sender.email);
    const vaultId = await newVault(senderToken, "team");
    const put = await api(app, "PUT", `/v1/vaults/${vaultId}/secrets/deploy/token`, { token: senderToken, body: { value: SHARED } });
    expect(put.status).toBe(201);
    const secretId = put.body.id as string;

    // B joins A's org through an invitation (shares stay inside the org).
    const bEmail = uniqueEmail("recipient");
    expect((await api(app, "POST", "/v1/org/invitations", { token: senderToken, body: { email: bEmail } })).status).toBe(201);
    const inviteToken = /\/invite#token=([A-Za-z0-9_%-]+)/.exec(mailTo(app, bEmail))?.[1];
    expect(inviteToken).toBeTruthy();
    const joined = await api(app, "POST", "/v1/org/invitations/accept", { body: { token: decodeURIComponent(inviteToken!), password: PASSWORD } });
    expect(joined.status).toBe(201);
    const bToken = joined.body.access_token as string;
    const bId = ((await api(app, "GET", "/v1/org/members", { token: senderToken })).body.members as { id: string; email: string }[]).find((m) => m.email === bEmail)!.id;

    const created = await api(app, "POST", `/v1/secrets/${secretId}/share`, {
      token: senderToken,
      body: { recipient_type: "user", recipient_id: bId, expires_at: inDays(2), max_access_count: 1 },
    });
    expect(created.status).toBe(201);
    const shareId = created.body.id as string;
    const readAsB = () => api(app, "GET", `/v1/share/${shareId}`, { token: bToken });

    // B sees it under Inbound, from A, pending; nothing of the value is on the page.
    const b = await newPage(browser, app);
    await signIn(b.page, bEmail);
    await open(b.page, "/shares");
    const inbound = b.page.getByRole("table", { name: "Inbound shares" });
    const row = inbound.locator(`[data-share-id="${shareId}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain(sender.email);
    expect(await row.textContent()).toContain("deploy/token");
    expect(await row.textContent()).toContain("Pending");
    expect(await b.page.getByRole("table", { name: "Outbound shares" }).count()).toBe(0);
    // B is a member: the org-wide list is for owners and admins only.
    expect(await b.page.getByRole("table", { name: "Org shares" }).count()).toBe(0);
    expect(await b.page.getByText("Org shares").count()).toBe(0);

    // Accept: the API now lets B read, but the page still holds no value.
    await row.getByRole("button", { name: "Accept" }).click();
    await row.getByRole("button", { name: "Reveal" }).waitFor();
    expect(await row.textContent()).toContain("Accepted");
    expect(await row.textContent()).toContain("1 of 1 left");
    const inboundApi = await api(app, "GET", "/v1/shares/inbound", { token: bToken });
    expect(inboundApi.body.shares).toEqual([expect.objectContaining({ id: shareId, is_accepted: true, access_count: 0, max_access_count: 1 })]);
    expect(await b.page.content()).not.toContain(SHARED);

    // Reveal uses the only read: the value appears in the dialog, and the API then refuses B.
    await row.getByRole("button", { name: "Reveal" }).click();
    const dialog = b.page.getByRole("dialog", { name: "Shared secret" });
    await expect.poll(() => dialog.getByTestId("shared-secret-value").textContent()).toBe(SHARED);
    expect(await dialog.textContent()).toContain("Reads used: 1 of 1");
    await screenshot(b.page, "11-shares");
    const again = await readAsB();
    expect(again.status).toBe(410);
    expect(again.body.detail).toContain("max_access_count");
    await dialog.getByRole("button", { name: "Close" }).click();
    await expect.poll(() => row.textContent()).toContain("No longer readable");
    expect(await row.textContent()).toContain("Used up");
    expect(await b.page.content()).not.toContain(SHARED);

    // A sees the share under Outbound, used up, and revokes it.
    await open(a.page, "/shares");
    const outRow = a.page.getByRole("table", { name: "Outbound shares" }).locator(`[data-share-id="${shareId}"]`);
    await outRow.waitFor();
    expect(await outRow.textContent()).toContain(bEmail);
    expect(await outRow.textContent()).toContain("1 / 1");
    expect(await outRow.textContent()).toContain("Used up");
    expect(await outRow.textContent()).toContain("v1");
    expect(await a.page.content()).not.toContain(SHARED);
    // A owns the org: the same share is in the org-wide list, with who shared it and with whom.
    const orgRow = a.page.getByRole("table", { name: "Org shares" }).locator(`[data-share-id="${shareId}"]`);
    expect(await orgRow.textContent()).toContain(sender.email);
    expect(await orgRow.textContent()).toContain(bEmail);
    const headings = (name: string) => a.page.getByRole("table", { name }).locator("thead th").allTextContents();
    expect(await headings("Org shares")).toEqual(["Secret path", "Shared by", "Recipient", "Version", "Expires", "Reads", "Status", "Actions"]);
    expect(await headings("Outbound shares")).toEqual(["Secret path", "Recipient", "Version", "Expires", "Reads", "Status", "Actions"]);
    // On a phone the table scrolls inside its card; the page itself does not scroll sideways.
    await a.page.setViewportSize({ width: 375, height: 800 });
    expect(await a.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await a.page.setViewportSize({ width: 1280, height: 860 });
    await outRow.getByRole("button", { name: "Revoke" }).click();
    await a.page.getByRole("dialog", { name: "Revoke this share?" }).getByRole("button", { name: "Revoke share" }).click();
    await expect.poll(() => a.page.locator(`[data-share-id="${shareId}"]`).count()).toBe(0);
    await a.page.getByText("You have not shared any secrets").waitFor();

    await a.page.getByText("No one in your organisation has a live share").waitFor();

    // An owner revokes from the org-wide list too (a link share made over the API, so not on the page yet).
    const link = await api(app, "POST", `/v1/secrets/${secretId}/share`, { token: senderToken, body: { recipient_type: "anyone_with_link", expires_at: inDays(1), follow_latest: true } });
    expect(link.status).toBe(201);
    await open(a.page, "/shares");
    const linkRow = a.page.getByRole("table", { name: "Org shares" }).locator(`[data-share-id="${link.body.id}"]`);
    expect(await linkRow.textContent()).toContain("Latest");
    await linkRow.getByRole("button", { name: "Revoke" }).click();
    await a.page.getByRole("dialog", { name: "Revoke this share?" }).getByRole("button", { name: "Revoke share" }).click();
    await expect.poll(() => a.page.locator(`[data-share-id="${link.body.id}"]`).count()).toBe(0);
    expect((await api(app, "GET", `/v1/share/${link.body.id}`)).status).toBe(404);

    // Revoked: 404 for its recipient, gone from both lists.
    expect((await readAsB()).status).toBe(404);
    expect((await api(app, "GET", "/v1/shares/outbound", { token: senderToken })).body.shares).toEqual([]);
    expect((await api(app, "GET", "/v1/shares/inbound", { token: bToken })).body.shares).toEqual([]);
    await open(b.page, "/shares");
    await b.page.getByText("No shares sent to you").waitFor();

    // A share with a passphrase: the reveal dialog asks for it, refuses a wrong one, shows the value for the right one.
    const PHRASE = "told you over the phone";
    const guarded = await api(app, "POST", `/v1/secrets/${secretId}/share`, {
      token: senderToken,
      body: { recipient_type: "user", recipient_id: bId, expires_at: inDays(2), passphrase: PHRASE },
    });
    expect(guarded.status).toBe(201);
    await open(b.page, "/shares");
    const guardedRow = inbound.locator(`[data-share-id="${guarded.body.id}"]`);
    await guardedRow.getByRole("button", { name: "Accept" }).click();
    await guardedRow.getByRole("button", { name: "Reveal" }).click();
    const ask = b.page.getByRole("dialog", { name: "Reveal shared secret" });
    await ask.getByLabel("Passphrase").fill("not the phrase");
    await ask.getByRole("button", { name: "Reveal value" }).click();
    await ask.getByRole("alert").filter({ hasText: "passphrase" }).waitFor();
    expect(await b.page.content()).not.toContain(SHARED);
    await ask.getByLabel("Passphrase").fill(PHRASE);
    await ask.getByRole("button", { name: "Reveal value" }).click();
    await expect.poll(() => b.page.getByRole("dialog", { name: "Shared secret" }).getByTestId("shared-secret-value").textContent()).toBe(SHARED);

    await a.context.close();
    await b.context.close();
  }, 180_000);

  test("the audit log: filtered by action, paged 50 at a time, with a valid hash chain", async () => {
    const { context, page } = await newPage(browser, app);
    const user = await signedInUser(page, app);
    const token = await tokenFor(user.email);
    const vaultId = await newVault(token, "audited");
    const writes = 55;
    for (let i = 0; i < writes; i++) {
      expect((await api(app, "PUT", `/v1/vaults/${vaultId}/secrets/app/counter`, { token, body: { value: `v${i}` } })).status).toBe(201);
    }
    const all = await api(app, "GET", "/v1/audit/events?limit=1", { token });
    const total = all.body.count as number;
    expect(total).toBeGreaterThan(writes);

    await open(page, "/audit");
    const events = page.getByRole("list", { name: "Audit events" });
    const rows = events.locator("[data-event-id]");
    const actions = () => events.locator('[data-event-id] [data-field="action"]').allTextContents();
    await expect.poll(() => rows.count()).toBe(50);
    const pager = page.getByRole("navigation", { name: "Audit pages" });
    expect(await pager.textContent()).toContain(`Events 1–50 of ${total}`);
    await expect.poll(() => page.getByTestId("audit-chain-status").textContent()).toContain("Valid");
    expect(await page.getByTestId("audit-chain-status").textContent()).toContain(`Events checked: ${total}`);

    // Only the vault's creation: one row, that action.
    await page.getByLabel("Action").fill("vault.create");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/action=vault\.create/);
    await expect.poll(actions).toEqual(["vault.create"]);
    expect(await events.textContent()).toContain(vaultId);
    await expect.poll(() => pager.textContent()).toContain("Events 1–1 of 1");
    expect(await pager.getByRole("link", { name: "Older" }).count()).toBe(0);

    // The 55 writes: 50 on the first page, "Older" to the last 5, "Newer" back.
    await page.getByLabel("Action").fill("secret.write");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/action=secret\.write/);
    await expect.poll(async () => [...new Set(await actions())]).toEqual(["secret.write"]);
    expect(await rows.count()).toBe(50);
    const firstPage = await rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-event-id")));
    await expect.poll(() => pager.textContent()).toContain(`Events 1–50 of ${writes}`);
    expect(await pager.getByRole("link", { name: "Newer" }).count()).toBe(0);
    await pager.getByRole("link", { name: "Older" }).click();
    await page.waitForURL(/offset=50/);
    expect(page.url()).toContain("action=secret.write");
    await expect.poll(() => rows.count()).toBe(writes - 50);
    expect(await pager.textContent()).toContain(`Events 51–${writes} of ${writes}`);
    expect([...new Set(await actions())]).toEqual(["secret.write"]);
    const secondPage = await rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-event-id")));
    expect(secondPage.filter((id) => firstPage.includes(id))).toEqual([]);
    // The oldest write is on the last page; the API agrees on what that page holds.
    const apiPage = await api(app, "GET", `/v1/audit/events?action=secret.write&limit=50&offset=50`, { token });
    expect((apiPage.body.events as { id: string }[]).map((e) => e.id)).toEqual(secondPage);
    expect(await pager.getByRole("link", { name: "Older" }).count()).toBe(0);
    await screenshot(page, "12-audit-pages");
    await pager.getByRole("link", { name: "Newer" }).click();
    await expect.poll(() => pager.textContent()).toContain(`Events 1–50 of ${writes}`);
    expect(await rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-event-id")))).toEqual(firstPage);

    expect((await api(app, "GET", "/v1/audit/verify", { token })).body.chain_valid).toBe(true);
    await context.close();
  }, 180_000);

  test("billing: the free tier, usage that moves with metered calls, and no x402 where the server does not take it", async () => {
    const { context, page } = await newPage(browser, app);
    const user = await signedInUser(page, app);
    const token = await tokenFor(user.email);

    await open(page, "/billing");
    expect(await page.getByTestId("billing-tier").textContent()).toBe("Free");
    const requests = page.getByRole("meter", { name: "Requests this month" });
    const vaults = page.getByRole("meter", { name: "Vaults" });
    expect(await vaults.getAttribute("aria-valuetext")).toBe("0 of 3");
    expect(await requests.getAttribute("aria-valuemax")).toBe("1000");
    const before = Number(await requests.getAttribute("aria-valuenow"));

    // Metered calls: a vault and a few reads. Both meters move after a reload, as the API says.
    await newVault(token, "billed");
    const calls = 12;
    for (let i = 0; i < calls; i++) expect((await api(app, "GET", "/v1/vaults", { token })).status).toBe(200);
    const sub = await api(app, "GET", "/v1/billing/subscription", { token });
    expect(sub.body.tier).toBe("free");
    const used = (sub.body.usage as { requests: { used: number } }).requests.used;
    expect(used).toBeGreaterThanOrEqual(before + calls + 1);
    await page.reload();
    await expect.poll(async () => Number(await requests.getAttribute("aria-valuenow"))).toBeGreaterThanOrEqual(used);
    expect(await vaults.getAttribute("aria-valuetext")).toBe("1 of 3");
    expect(await page.getByText(`${Number(await requests.getAttribute("aria-valuenow")).toLocaleString("en-US")} of 1,000`).count()).toBe(1);

    // x402: a server without TALON_X402_* does not offer it (issue 11 item 12), and the API refuses it.
    const method = page.getByLabel("Overage method");
    expect(await method.inputValue()).toBe("credits");
    expect(await method.locator("option").allInnerTexts()).not.toContainEqual(expect.stringMatching(/x402/i));
    expect(await method.locator('option[value="x402"]').count()).toBe(0);
    expect(await page.getByRole("button", { name: "Save overage method" }).isDisabled()).toBe(true);
    await screenshot(page, "13-billing");
    const refused = await api(app, "PATCH", "/v1/billing/overage-method", { token, body: { method: "x402" } });
    expect(refused.status).toBe(400);
    expect((await api(app, "GET", "/v1/billing/subscription", { token })).body.overage_method).toBe("credits");
    await context.close();
  }, 120_000);
});
