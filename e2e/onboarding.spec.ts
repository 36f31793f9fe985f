import type { Browser } from "playwright-core";
import { describe, expect, test } from "vitest";
import { api, type App, newPage, PASSWORD, screenshot, signedInUser, useApp } from "./harness";

/**
 * Onboarding and words (issue 11 item 11): the first-run checklist ticks each step from what really
 * exists and goes away once the agent has read a secret with the command it offers; creating a vault
 * opens it; an in-theme 404 with HTTP 404 (outside and inside the dashboard); the favicon; times in the
 * chosen time zone with UTC on hover; sessions named by browser; new personal keys expire by default.
 */
let app: App;
let browser: Browser;
useApp((started) => ({ app, browser } = started));

describe("onboarding", () => {
  test("the checklist follows real state, from an empty org to the agent's first read", async () => {
    const { page } = await newPage(browser, app);
    const user = await signedInUser(page, app);
    const steps = page.getByRole("list", { name: "Getting started" }).getByTestId("onboarding-step");
    // The list streams in after the page shell: wait for all five steps before reading them.
    const done = async () => {
      await steps.nth(4).waitFor();
      return (await steps.evaluateAll((els) => els.map((e) => e.getAttribute("data-done")))).map((d) => d === "true");
    };
    expect(await done()).toEqual([false, false, false, false, false]);

    // Creating a vault opens it.
    await page.getByLabel("Name").fill("first");
    await page.getByRole("button", { name: "Create vault" }).click();
    await page.waitForURL(/\/vaults\/[0-9a-f-]{36}$/);
    const vaultId = /\/vaults\/([0-9a-f-]{36})/.exec(page.url())![1]!;
    await page.getByRole("heading", { level: 1, name: "first" }).waitFor();
    await page.goto("/vaults");
    expect(await done()).toEqual([true, false, false, false, false]);

    const token = (await api(app, "POST", "/v1/auth/token", { body: { email: user.email, password: PASSWORD } })).body.access_token as string;
    expect((await api(app, "PUT", `/v1/vaults/${vaultId}/secrets/app/db-url`, { token, body: { value: "postgres://first" } })).status).toBe(201);
    const created = await api(app, "POST", "/v1/agents", { token, body: { name: "first-bot" } });
    const agentId = (created.body.agent as { id: string }).id;
    const agentKey = created.body.api_key as string;
    await page.reload();
    expect(await done()).toEqual([true, true, true, false, false]);

    expect((await api(app, "POST", `/v1/vaults/${vaultId}/policies`, { token, body: { principal_type: "agent", principal_id: agentId, secret_path_pattern: "app/**" } })).status).toBe(201);
    await page.reload();
    expect(await done()).toEqual([true, true, true, true, false]);
    const curl = (await page.getByTestId("onboarding-curl").textContent())!;
    expect(curl).toContain(`"agent_id\\":\\"${agentId}\\"`);
    expect(curl).toContain(`${app.url}/v1/vaults/${vaultId}/secrets/app/db-url`);
    expect(curl).not.toContain(agentKey);
    await page.getByRole("button", { name: "Copy command" }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(curl);
    await screenshot(page, "onboarding-checklist");

    // What the command does, as the agent: token, then the read; the checklist is then gone.
    const agentToken = (await api(app, "POST", "/v1/auth/agent-token", { body: { agent_id: agentId, api_key: agentKey } })).body.access_token as string;
    expect((await api(app, "GET", `/v1/vaults/${vaultId}/secrets/app/db-url`, { token: agentToken })).body.value).toBe("postgres://first");
    await page.reload();
    await page.getByRole("table", { name: "Vaults" }).waitFor();
    expect(await page.getByRole("list", { name: "Getting started" }).count()).toBe(0);
  }, 120_000);

  test("404 pages, favicon, time zone, session names and key expiry", async () => {
    const { page } = await newPage(browser, app);
    await signedInUser(page, app);

    // Outside the dashboard and inside it (a vault that does not exist): in theme, HTTP 404.
    const missing = await page.goto("/no-such-page");
    expect(missing?.status()).toBe(404);
    await page.getByRole("heading", { name: "This page does not exist" }).waitFor();
    // Inside the dashboard, with the nav: a vault that does not exist, and an agent and a vault of
    // another org (which must look exactly like missing ones), all HTTP 404. Record pages have no
    // loading boundary above them, so the status is decided before anything is streamed.
    const other = await newPage(browser, app);
    const otherUser = await signedInUser(other.page, app);
    const otherToken = (await api(app, "POST", "/v1/auth/token", { body: { email: otherUser.email, password: PASSWORD } })).body.access_token as string;
    const otherAgent = ((await api(app, "POST", "/v1/agents", { token: otherToken, body: { name: "not-yours" } })).body.agent as { id: string }).id;
    const otherVault = (await api(app, "POST", "/v1/vaults", { token: otherToken, body: { name: "not-yours" } })).body.id as string;
    await other.context.close();
    for (const path of [
      "/vaults/00000000-0000-4000-8000-000000000000",
      "/vaults/not-a-uuid",
      `/vaults/${otherVault}`,
      `/vaults/${otherVault}/deleted`,
      `/agents/${otherAgent}`,
      `/agents/${otherAgent}/transactions`,
    ]) {
      const res = await page.goto(path);
      expect(res?.status(), path).toBe(404);
      await page.getByRole("heading", { name: "This page does not exist" }).waitFor();
      await page.getByRole("navigation", { name: "Main" }).first().waitFor();
    }
    await screenshot(page, "not-found-in-dashboard");
    // The pages themselves still answer 200.
    expect((await page.goto("/vaults"))?.status()).toBe(200);
    expect((await page.goto("/audit"))?.status()).toBe(200);

    const icon = await page.locator('link[rel="icon"]').first().getAttribute("href");
    expect(icon).toMatch(/^\/icon\.svg/);
    const iconRes = await page.request.get(icon!);
    expect(iconRes.status()).toBe(200);
    expect(iconRes.headers()["content-type"]).toContain("image/svg+xml");

    // Times follow the zone picked on the Account page, with UTC on hover.
    await page.goto("/account");
    await page.getByLabel("Time zone").selectOption("Asia/Tokyo");
    const sessionTime = page.getByRole("table", { name: "Sessions" }).locator("time").first();
    await expect.poll(() => sessionTime.textContent()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d GMT\+9$/);
    const utc = (await sessionTime.getAttribute("title"))!;
    expect(utc).toMatch(/ UTC$/);
    const shown = (await sessionTime.textContent())!;
    expect(Date.parse(`${shown.slice(0, 16).replace(" ", "T")}:00+09:00`)).toBe(Date.parse(`${utc.slice(0, 16).replace(" ", "T")}:00Z`));
    await page.reload();
    await expect.poll(() => page.getByRole("table", { name: "Sessions" }).locator("time").first().textContent()).toMatch(/GMT\+9$/);
    await page.getByLabel("Time zone").selectOption("");
    await expect.poll(() => page.getByRole("table", { name: "Sessions" }).locator("time").first().textContent()).toMatch(/UTC$/);

    // This browser's session is named by browser and system, the raw header on hover.
    const device = page.getByRole("table", { name: "Sessions" }).locator("td p").first();
    expect(await device.textContent()).toMatch(/^Chrome \d+ on Linux$/);
    expect(await device.getAttribute("title")).toContain("Mozilla/5.0");

    // A new personal key expires in 90 days unless the user picks otherwise.
    expect(await page.getByRole("combobox", { name: "Expires" }).inputValue()).toBe("90");
  }, 120_000);

  test("errors read as sentences: no status words, field paths or API paths", async () => {
    const { page } = await newPage(browser, app);
    const user = await signedInUser(page, app);
    const token = (await api(app, "POST", "/v1/auth/token", { body: { email: user.email, password: PASSWORD } })).body.access_token as string;
    expect((await api(app, "POST", "/v1/vaults", { token, body: { name: "taken" } })).status).toBe(201);
    expect((await api(app, "POST", "/v1/agents", { token, body: { name: "reader" } })).status).toBe(201);
    const RAW = /Conflict:|\/v1\/|\bbody\.|\binput\.|\bHTTP\b|Bad Request|Not Found|Too big:|Too small:|Invalid input:/;
    const SENTENCE = /^["'“A-Z].*[.!?]$/s;

    // A vault name that is taken: the server's 409, shown above the form.
    await page.goto("/vaults");
    await page.getByLabel("Name").fill("taken");
    await page.getByRole("button", { name: "Create vault" }).click();
    const conflict = page.getByRole("alert").filter({ hasText: "taken" });
    await conflict.waitFor();
    const conflictText = (await conflict.textContent())!.trim();
    expect(conflictText).toBe('A vault named "taken" already exists in this organisation.');
    expect(conflictText).toMatch(SENTENCE);
    expect(conflictText).not.toMatch(RAW);
    await screenshot(page, "error-duplicate-vault");

    // A path pattern the contract refuses: the message beneath the field.
    await page.goto("/policies");
    await page.getByLabel("Principal type").selectOption("agent");
    await page.getByLabel("Principal", { exact: true }).selectOption({ label: "reader" });
    await page.getByLabel("Path pattern").fill("app/**x");
    await page.getByRole("button", { name: "Grant access" }).click();
    const fieldError = page.locator('p[role="alert"]').filter({ hasText: "segment" });
    await fieldError.waitFor();
    const fieldText = (await fieldError.textContent())!.trim();
    expect(fieldText).toMatch(SENTENCE);
    expect(fieldText).not.toMatch(RAW);
    expect(fieldText).toBe("'**' must be a whole segment.");
    await screenshot(page, "error-policy-pattern");
  }, 120_000);
});
