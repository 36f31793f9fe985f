import type { Browser, Page } from "playwright-core";
import { describe, expect, test } from "vitest";
import { api, type App, mailTo, newPage, PASSWORD, screenshot, signedInUser, signIn, uniqueEmail, useApp } from "./harness";

/**
 * The organisation, security and account pages as their users work them, each change proved over
 * the API: an invitation accepted in a second browser and a role changed, IP rules added and deleted
 * (and a lock-out refused), personal API keys, profile, password and other sessions.
 */
let app: App;
let browser: Browser;
useApp((started) => ({ app, browser } = started));

async function userToken(email: string, password = PASSWORD): Promise<string> {
  const r = await api(app, "POST", "/v1/auth/token", { body: { email, password } });
  expect(r.status).toBe(200);
  return r.body.access_token as string;
}

type Member = { id: string; email: string; role: string };
async function membersOverApi(token: string): Promise<Member[]> {
  const r = await api(app, "GET", "/v1/org/members", { token });
  expect(r.status).toBe(200);
  return r.body.members as Member[];
}

type IpRule = { id: string; rule_type: string; cidr: string };
async function ipRulesOverApi(token: string): Promise<IpRule[]> {
  const r = await api(app, "GET", "/v1/security/ip-rules", { token });
  expect(r.status).toBe(200);
  return r.body.rules as IpRule[];
}

const heading = (page: Page) => page.getByRole("heading", { level: 1 }).first();

describe("organisation, security and account pages", () => {
  test("an invitation sent on /org is accepted in another browser; the owner then makes the colleague an admin", async () => {
    const owner = await newPage(browser, app);
    const ownerUser = await signedInUser(owner.page, app);
    const colleague = uniqueEmail("colleague");

    await owner.page.goto("/org");
    await owner.page.getByLabel("Email address").fill(colleague);
    await owner.page.getByLabel("Role").selectOption("member");
    await owner.page.getByRole("button", { name: "Send invitation" }).click();
    await expect.poll(() => owner.page.getByText(`Invitation sent to ${colleague}`).count()).toBe(1);
    await expect.poll(() => owner.page.getByRole("table", { name: "Pending invitations" }).textContent()).toContain(colleague);

    // The link carries its token in the fragment, which never reaches a server log.
    const link = /https?:\/\/\S+\/invite#token=[A-Za-z0-9_%-]+/.exec(mailTo(app, colleague))?.[0];
    expect(link).toBeDefined();
    expect(link!.startsWith(`${app.url}/invite#token=`)).toBe(true);

    // The colleague, in their own browser, chooses a password and is signed in.
    const guest = await newPage(browser, app);
    await guest.page.goto(link!);
    await guest.page.getByLabel("Name").fill("Casey Colleague");
    await guest.page.getByLabel("Password").fill(PASSWORD);
    await guest.page.getByRole("button", { name: "Accept invitation" }).click();
    await guest.page.waitForURL("**/vaults");

    // A member sees the people but none of the controls that change them.
    await guest.page.goto("/org");
    const guestMembers = guest.page.getByRole("table", { name: "Members" });
    await expect.poll(() => guestMembers.textContent()).toContain(ownerUser.email);
    await guest.page.getByText("2 people. You are a member.").waitFor();
    for (const name of ["Change role", "Remove", "Send invitation", "Revoke"]) expect(await guest.page.getByRole("button", { name }).count(), name).toBe(0);
    expect(await guest.page.getByLabel("Email address").count()).toBe(0);
    await screenshot(guest.page, "14-org-member-view");
    await guest.page.goto("/security");
    await guest.page.getByText("Only organisation owners and admins can see and change IP rules.").waitFor();
    expect(await guest.page.getByRole("button", { name: "Add rule" }).count()).toBe(0);

    // The owner sees the new member; the invitation is no longer pending.
    await owner.page.reload();
    const members = owner.page.getByRole("table", { name: "Members" });
    await expect.poll(() => members.textContent()).toContain(colleague);
    await expect.poll(() => owner.page.getByText("No pending invitations").count()).toBe(1);
    await owner.page.getByText("2 people. You are an owner.").waitFor();
    const ownerToken = await userToken(ownerUser.email);
    expect((await membersOverApi(ownerToken)).find((m) => m.email === colleague)?.role).toBe("member");

    // Make them an admin.
    const row = members.getByRole("row").filter({ hasText: colleague });
    await row.getByRole("button", { name: "Change role" }).click();
    const dialog = owner.page.getByRole("dialog", { name: `Change the role of ${colleague}` });
    await dialog.getByLabel("Role").selectOption("admin");
    await dialog.getByRole("button", { name: "Save role" }).click();
    await expect.poll(() => dialog.isVisible()).toBe(false);
    await expect.poll(() => row.textContent()).toContain("admin");
    await screenshot(owner.page, "14-org");
    expect((await membersOverApi(ownerToken)).find((m) => m.email === colleague)?.role).toBe("admin");

    // The change ends the colleague's session; signed in again, they have an admin's controls.
    await guest.page.goto("/org");
    await guest.page.waitForURL("**/login");
    await signIn(guest.page, colleague);
    await guest.page.goto("/org");
    await guest.page.getByRole("button", { name: "Send invitation" }).waitFor();
    expect(await guest.page.getByRole("button", { name: "Change role" }).count()).toBe(0);
    // Admins cannot hand out ownership, so the invitation form does not offer it.
    expect(await guest.page.getByLabel("Role").locator("option").allTextContents()).toEqual(["Member", "Admin"]);

    // An invitation revoked in the UI: its emailed token stops working.
    const unwanted = uniqueEmail("unwanted");
    await owner.page.getByLabel("Email address").fill(unwanted);
    await owner.page.getByRole("button", { name: "Send invitation" }).click();
    const pending = owner.page.getByRole("table", { name: "Pending invitations" });
    await expect.poll(() => pending.textContent()).toContain(unwanted);
    const unwantedToken = decodeURIComponent(/\/invite#token=([A-Za-z0-9_%-]+)/.exec(mailTo(app, unwanted))![1]!);
    await pending.getByRole("button", { name: "Revoke" }).click();
    await owner.page.getByRole("dialog", { name: `Revoke the invitation for ${unwanted}?` }).getByRole("button", { name: "Revoke invitation" }).click();
    await expect.poll(() => owner.page.getByText("No pending invitations").count()).toBe(1);
    const invitations = await api(app, "GET", "/v1/org/invitations", { token: ownerToken });
    expect((invitations.body.invitations as { email: string }[]).map((i) => i.email)).not.toContain(unwanted);
    expect((await api(app, "POST", "/v1/org/invitations/accept", { body: { token: unwantedToken, password: PASSWORD } })).status).toBe(400);

    await guest.context.close();
    await owner.context.close();
  }, 180_000);

  test("IP rules: a deny rule is added and deleted; an allow rule that would lock the owner out is cancelled", async () => {
    const { context, page } = await newPage(browser, app);
    const user = await signedInUser(page, app);
    const token = await userToken(user.email);

    await page.goto("/security");
    await page.getByText("No IP rules").waitFor();
    await page.getByLabel("Rule type").selectOption("deny");
    await page.getByLabel("CIDR").fill("203.0.113.0/24");
    await page.getByLabel("Label").fill("documentation net");
    await page.getByRole("button", { name: "Add rule" }).click();
    const table = page.getByRole("table", { name: "IP rules" });
    await expect.poll(() => table.textContent()).toContain("203.0.113.0/24");
    expect(await table.textContent()).toContain("documentation net");
    const added = await ipRulesOverApi(token);
    expect(added.map((r) => [r.rule_type, r.cidr])).toEqual([["deny", "203.0.113.0/24"]]);
    await screenshot(page, "15-security");

    await table.getByRole("button", { name: "Delete" }).click();
    await page.getByRole("dialog", { name: "Delete the deny rule for 203.0.113.0/24?" }).getByRole("button", { name: "Delete rule" }).click();
    await expect.poll(() => page.getByText("No IP rules").count()).toBe(1);
    expect(await ipRulesOverApi(token)).toEqual([]);

    // The browser comes from 127.0.0.1: admitting only another network would shut the owner out.
    await page.getByLabel("Rule type").selectOption("allow");
    await page.getByLabel("CIDR").fill("198.51.100.0/24");
    await page.getByRole("button", { name: "Add rule" }).click();
    const warning = page.getByRole("status").filter({ hasText: "This rule would lock you out" });
    await warning.waitFor();
    expect(await warning.textContent()).toContain("127.0.0.1");
    expect(await warning.textContent()).not.toContain("force=true");
    await screenshot(page, "15-security-lockout");
    await warning.getByRole("button", { name: "Cancel" }).click();
    await expect.poll(() => warning.count()).toBe(0);
    expect(await ipRulesOverApi(token)).toEqual([]);
    // Still let in.
    await page.reload();
    await expect.poll(() => heading(page).textContent()).toBe("Security");
    await page.getByText("No IP rules").waitFor();
    await context.close();
  }, 120_000);

  test("account: a personal API key shown once and revoked, display name, other sessions, and a new password", async () => {
    const { context, page } = await newPage(browser, app);
    const user = await signedInUser(page, app);
    await page.goto("/account");

    // A personal API key: shown once, acts as the user, gone from the page afterwards. Its scopes are
    // checked with the API's own schema before anything is sent, the error beside the field.
    await page.getByLabel("Key name", { exact: true }).fill("laptop");
    await page.getByLabel("Scopes").fill("ci/*\na/../b");
    await page.getByRole("button", { name: "Create key" }).click();
    await page.getByText('"a/../b" segments may contain only').waitFor();
    await page.getByLabel("Scopes").fill("ci/*, deploy/**");
    await page.getByRole("button", { name: "Create key" }).click();
    const shown = page.getByTestId("new-api-key-value");
    await shown.waitFor();
    const key = (await shown.textContent())!.trim();
    expect(key).toMatch(/^1ck_[A-Za-z0-9_-]{43}$/);
    const me = await api(app, "GET", "/v1/auth/me", { token: key });
    expect(me.status).toBe(200);
    expect(me.body.email).toBe(user.email);
    await page.getByRole("button", { name: "Done" }).click();
    await page.reload();
    const keys = page.getByRole("table", { name: "API keys" });
    await expect.poll(() => keys.textContent()).toContain("laptop");
    await expect.poll(() => keys.textContent()).toContain("ci/*, deploy/**");
    expect(await page.content()).not.toContain(key);
    // The raw response (HTML and the server components' payload) does not carry it either.
    expect(await (await context.request.get("/account")).text()).not.toContain(key);

    await keys.getByRole("button", { name: "Revoke" }).click();
    await page.getByRole("dialog", { name: "Revoke the key “laptop”?" }).getByRole("button", { name: "Revoke key" }).click();
    await expect.poll(() => page.getByText("No API keys").count()).toBe(1);
    expect((await api(app, "GET", "/v1/auth/me", { token: key })).status).toBe(401);

    // Display name.
    await page.getByLabel("Display name").fill("Robin Renamed");
    await page.getByRole("button", { name: "Save profile" }).click();
    await page.getByText("Profile saved.").waitFor();
    await page.reload();
    await expect.poll(() => page.getByLabel("Display name").inputValue()).toBe("Robin Renamed");
    expect((await api(app, "GET", "/v1/auth/me", { token: await userToken(user.email) })).body.display_name).toBe("Robin Renamed");

    // Another browser signs in; this one signs it out from the sessions table.
    const other = await newPage(browser, app);
    await signIn(other.page, user.email);
    await page.reload();
    const sessions = page.getByRole("table", { name: "Sessions" });
    await expect.poll(() => sessions.getByRole("row").count()).toBe(3);
    await screenshot(page, "16-account");
    // On a desktop screen the button is in view, not scrolled off the side of the table.
    const signOutBox = (await sessions.getByRole("button", { name: "Sign out" }).boundingBox())!;
    const tableBox = (await sessions.locator("xpath=..").boundingBox())!;
    expect(signOutBox.x + signOutBox.width).toBeLessThanOrEqual(tableBox.x + tableBox.width);
    await sessions.getByRole("button", { name: "Sign out" }).click();
    await expect.poll(() => sessions.getByRole("row").count()).toBe(2);
    expect(await sessions.getByRole("button", { name: "Sign out" }).count()).toBe(0);
    expect(await sessions.getByText("This device").count()).toBe(1);
    await other.page.goto("/vaults");
    await other.page.waitForURL("**/login");
    await other.context.close();
    // This browser is still signed in.
    await page.reload();
    await expect.poll(() => heading(page).textContent()).toBe("Account");

    // A new password signs this browser out; a copy of its cookie is dead too.
    const copied = await context.cookies();
    const NEW_PASSWORD = "a different horse, battery and staple";
    await page.getByLabel("Current password").fill(PASSWORD);
    await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel("Repeat new password").fill(NEW_PASSWORD);
    await page.getByRole("button", { name: "Change password" }).click();
    await page.getByText("Password changed").waitFor();
    await page.waitForURL("**/login");
    const replay = await newPage(browser, app);
    await replay.context.addCookies(copied);
    await replay.page.goto("/account");
    await replay.page.waitForURL("**/login");
    await replay.context.close();
    expect((await api(app, "POST", "/v1/auth/token", { body: { email: user.email, password: PASSWORD } })).status).toBe(401);
    await signIn(page, user.email, NEW_PASSWORD);
    await expect.poll(() => heading(page).textContent()).toBe("Vaults");
    await context.close();
  }, 180_000);

  test("at 375 px the organisation, security and account pages do not scroll sideways", async () => {
    const { context, page } = await newPage(browser, app, { width: 375 });
    const user = await signedInUser(page, app);
    const token = await userToken(user.email);
    expect((await api(app, "POST", "/v1/security/ip-rules", { token, body: { rule_type: "deny", cidr: "2001:db8::/32", label: "documentation range" } })).status).toBe(201);
    expect((await api(app, "POST", "/v1/auth/api-keys", { token, body: { name: "phone" } })).status).toBe(201);
    for (const [p, title] of [["/org", "Organisation"], ["/security", "Security"], ["/account", "Account"]] as const) {
      await page.goto(p);
      await expect.poll(() => heading(page).textContent()).toBe(title);
      expect(await page.evaluate(() => document.documentElement.scrollWidth), p).toBeLessThanOrEqual(375);
    }
    await page.goto("/security");
    await screenshot(page, "15-security-mobile");
    await context.close();
  }, 120_000);
});
