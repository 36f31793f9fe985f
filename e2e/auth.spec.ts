import type { Browser } from "playwright-core";
import { describe, expect, test } from "vitest";
import { base32Decode, currentStep, totpCode } from "../server/identity/totp";
import { addVirtualAuthenticator, api, type App, newPage, PASSWORD, screenshot, signedInUser, signIn, signUpInBrowser, startApp, useApp } from "./harness";

/**
 * Signing in to the dashboard as a person does: sign-up and the emailed link, password, TOTP,
 * passkeys in Chromium's virtual authenticator, and sign-out that really ends the session.
 */
let app: App;
let browser: Browser;
useApp((started) => ({ app, browser } = started));

describe("dashboard sign-in", () => {
  test("sign-up → confirmation link from the outbox → sign-in, with a cookie scripts cannot read", async () => {
    const { context, page } = await newPage(browser, app);
    const user = await signUpInBrowser(page, app);
    await screenshot(page, "01-email-confirmed");

    // Before signing in, dashboard pages send the visitor to the sign-in page.
    await page.goto("/vaults");
    await page.waitForURL("**/login");

    // A wrong password is refused with a message, and nothing is set.
    await page.getByLabel("Email").fill(user.email);
    await page.getByLabel("Password").fill("not the password at all");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect.poll(() => page.getByRole("alert").first().textContent()).toContain("Invalid credentials");
    await screenshot(page, "02-sign-in");

    await signIn(page, user.email);
    await expect.poll(() => page.getByRole("heading", { level: 1 }).first().textContent()).toBe("Vaults");
    const cookie = (await context.cookies()).find((c) => c.name.includes("authjs.session-token"));
    expect(cookie).toBeDefined();
    expect(cookie!.httpOnly).toBe(true);
    expect(cookie!.sameSite).toBe("Lax");
    expect(await page.evaluate(() => document.cookie)).not.toContain("session-token");
    await context.close();
  }, 120_000);

  test("sign-out ends the session on the server: a copy of the cookie no longer works", async () => {
    const { context, page } = await newPage(browser, app);
    await signedInUser(page, app);
    const copied = await context.cookies();

    await page.getByRole("button", { name: "Sign out" }).first().click();
    await page.waitForURL("**/login");

    // Someone who copied the cookie before sign-out replays it in another browser.
    const thief = await newPage(browser, app);
    await thief.context.addCookies(copied);
    await thief.page.goto("/vaults");
    await thief.page.waitForURL("**/login");
    await thief.context.close();
    await context.close();
  }, 120_000);

  test("TOTP: enrol with the QR code's secret, then sign in with a code", async () => {
    const { context, page } = await newPage(browser, app);
    const user = await signedInUser(page, app);
    await page.goto("/account");
    await page.getByRole("button", { name: "Set up MFA" }).click();
    await expect.poll(() => page.getByAltText(/QR code/).count()).toBe(1);
    const secret = (await page.getByTestId("mfa-secret").textContent())!.replace(/\s/g, "");
    const key = base32Decode(secret);
    await page.getByLabel("6-digit code").fill(totpCode(key, currentStep()));
    await page.getByRole("button", { name: "Verify" }).click();
    const codes = page.getByTestId("recovery-codes");
    await codes.waitFor();
    expect((await codes.textContent())!.length).toBeGreaterThan(50);
    await screenshot(page, "03-mfa-recovery-codes");

    await page.getByRole("button", { name: "Sign out" }).first().click();
    await page.waitForURL("**/login");
    await page.getByLabel("Email").fill(user.email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    // The password alone is not enough now.
    await page.getByLabel("Authentication code").waitFor();
    await page.getByLabel("Authentication code").fill("000000");
    await page.getByRole("button", { name: "Verify" }).click();
    await expect.poll(() => page.getByRole("alert").first().textContent()).toContain("Invalid or already used");
    // The next time step: a code is never accepted twice, and enrolment used the current one.
    await page.getByLabel("Authentication code").fill(totpCode(key, currentStep() + 1));
    await page.getByRole("button", { name: "Verify" }).click();
    await page.waitForURL("**/vaults");
    await context.close();
  }, 120_000);

  test("passkeys: register one, sign out, sign in with it; removing it stops it working", async () => {
    const { context, page } = await newPage(browser, app);
    await addVirtualAuthenticator(page);
    await signedInUser(page, app);
    await page.goto("/account");
    await page.getByLabel("Passkey name").fill("Virtual authenticator");
    await page.getByRole("button", { name: "Add a passkey" }).click();
    const list = page.getByRole("list", { name: "Your passkeys" });
    await expect.poll(() => list.textContent()).toContain("Virtual authenticator");
    await screenshot(page, "04-passkeys");

    await page.getByRole("button", { name: "Sign out" }).first().click();
    await page.waitForURL("**/login");
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await page.waitForURL("**/vaults");

    // Remove it: the authenticator still holds the credential, but Talon no longer accepts it.
    await page.goto("/account");
    await list.getByRole("button", { name: "Remove" }).click();
    await page.getByRole("button", { name: "Remove passkey" }).click();
    await expect.poll(() => page.getByText("No passkeys yet").count()).toBe(1);
    await page.getByRole("button", { name: "Sign out" }).first().click();
    await page.waitForURL("**/login");
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await expect.poll(() => page.getByRole("alert").first().textContent()).toContain("could not sign you in");
    await context.close();
  }, 120_000);

  test("sign-in attempts through the dashboard take the same per-IP budget as the API's auth routes", async () => {
    const limited = await startApp({ TALON_RATE_LIMIT_AUTH_PER_MINUTE: "3" });
    try {
      const { context, page } = await newPage(browser, limited);
      await page.goto("/login");
      for (let i = 0; i < 4; i++) {
        await page.getByLabel("Email").fill(`nobody-${i}@example.test`);
        await page.getByLabel("Password").fill("wrong password!");
        await page.getByRole("button", { name: "Sign in", exact: true }).click();
        await expect.poll(() => page.getByRole("alert").first().textContent()).toMatch(i < 3 ? /Invalid credentials/ : /Too many requests/);
      }
      // The API's auth routes share the budget: the same address is refused there too.
      expect((await api(limited, "POST", "/v1/auth/token", { body: { email: "x@example.test", password: "whatever" } })).status).toBe(429);
      await context.close();
    } finally {
      await limited.stop();
    }
  }, 120_000);

  test("over HTTPS the session cookie is also Secure, with the __Secure- prefix", async () => {
    const secure = await startApp({}, { tls: true });
    try {
      const { context, page } = await newPage(browser, secure);
      await signedInUser(page, secure);
      const cookie = (await context.cookies()).find((c) => c.name.includes("authjs.session-token"));
      expect(cookie).toMatchObject({ name: "__Secure-authjs.session-token", secure: true, httpOnly: true, sameSite: "Lax" });
      await context.close();
    } finally {
      await secure.stop();
    }
  }, 120_000);
});
