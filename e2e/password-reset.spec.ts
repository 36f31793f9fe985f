import type { Browser, Page } from "playwright-core";
import { describe, expect, test } from "vitest";
import { api, type App, mailTo, newPage, screenshot, signedInUser, signIn, useApp } from "./harness";

/**
 * "Forgot password?" as a person uses it: the link on the sign-in page, the request page, the mailed
 * link (token in the fragment), the new password — and the session that was open before is over.
 */
let app: App;
let browser: Browser;
useApp((started) => ({ app, browser } = started));

const NEW_PASSWORD = "a brand new passphrase for talon";

/** The newest mail to `email` that carries a reset link (the mailer writes files; wait for it). */
async function resetLinkFor(email: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const link = /https?:\/\/\S+\/reset-password#token=[A-Za-z0-9_-]+/.exec(mailTo(app, email))?.[0];
      if (link) return link;
    } catch {
      // No mail yet.
    }
    if (Date.now() > deadline) throw new Error(`no reset link mailed to ${email}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function requestReset(page: Page, email: string) {
  await page.goto("/login");
  await page.getByRole("link", { name: "Forgot password?" }).click();
  await page.waitForURL("**/forgot-password");
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Send reset link" }).click();
  await page.getByTestId("forgot-password-done").waitFor();
}

describe("forgot password", () => {
  test("sign-in page → request → mailed link → new password; the old password and the old session stop working", async () => {
    const before = await newPage(browser, app);
    const user = await signedInUser(before.page, app);
    const oldCookies = await before.context.cookies();

    const { context, page } = await newPage(browser, app);
    await requestReset(page, user.email);
    await screenshot(page, "reset-01-requested");

    const link = await resetLinkFor(user.email);
    // The token travels in the fragment, never in the query (servers and logs never see it).
    expect(new URL(link).search).toBe("");
    await page.goto(link);
    await page.getByLabel("New password").fill(NEW_PASSWORD);
    await page.getByRole("button", { name: "Set new password" }).click();
    await page.getByTestId("reset-password-done").waitFor();
    // The token left the address bar as soon as the page read it.
    expect(page.url()).not.toContain("token=");
    await screenshot(page, "reset-02-done");

    // The session opened before the reset is over: its cookie now lands on the sign-in page.
    const stale = await newPage(browser, app);
    await stale.context.addCookies(oldCookies);
    await stale.page.goto("/vaults");
    await stale.page.waitForURL("**/login");
    await stale.context.close();

    // The old password is refused; the new one signs in.
    expect((await api(app, "POST", "/v1/auth/token", { body: { email: user.email, password: user.password } })).status).toBe(401);
    await page.getByRole("link", { name: "Continue to sign in" }).click();
    await page.waitForURL((u) => u.pathname === "/login" && u.searchParams.get("notice") === "password-reset");
    await expect.poll(() => page.getByRole("status").first().textContent()).toContain("Your new password is set");
    await signIn(page, user.email, NEW_PASSWORD);
    await expect.poll(() => page.getByRole("heading", { level: 1 }).first().textContent()).toBe("Vaults");

    // The link is single use.
    const again = await newPage(browser, app);
    await again.page.goto(link);
    await again.page.getByLabel("New password").fill("yet another long passphrase");
    await again.page.getByRole("button", { name: "Set new password" }).click();
    await expect.poll(() => again.page.getByRole("alert").first().textContent()).toContain("invalid, expired or already used");
    await again.context.close();

    await before.context.close();
    await context.close();
  }, 120_000);

  test("an unknown address gets the same answer on the page, and no mail", async () => {
    const { context, page } = await newPage(browser, app);
    const nobody = `nobody-${Math.random().toString(36).slice(2, 10)}@example.test`;
    await requestReset(page, nobody);
    await expect.poll(() => page.getByTestId("forgot-password-done").textContent()).toContain("If an account exists for this address");
    await new Promise((r) => setTimeout(r, 500));
    expect(() => mailTo(app, nobody)).toThrow(/no mail/);
    await context.close();
  }, 60_000);
});
