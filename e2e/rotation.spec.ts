import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ensureBuild } from "../scripts/talon-process";
import { type Database, openDatabase } from "../server/db";
import { createPostgresDatabase, testDialect } from "../tests/helpers/server";
import { api, type App, BUILD_TIMEOUT_MS, launchBrowser, newPage, PASSWORD, screenshot, signedInUser, signIn, startApp } from "./harness";

/**
 * The Rotation page (issue 14 item 4): secrets with a rotation policy across the user's vaults, a due
 * one under "Due now" with its badge, a scheduled automatic one under "Scheduled", reached from the
 * navigation, readable at 375 px. The due date is moved into the past in the database, as if the
 * interval had gone by.
 */
let app: App;
let browser: Browser;
let database: Database;
let dbDir: string;
let dropPg: (() => Promise<void>) | null = null;

beforeAll(async () => {
  ensureBuild();
  dbDir = mkdtempSync(path.join(tmpdir(), "talon-e2e-rotation-"));
  let url = `file:${path.join(dbDir, "talon.db")}`;
  if (testDialect === "postgres") {
    const pg = await createPostgresDatabase();
    url = pg.url;
    dropPg = () => pg.drop();
  }
  [app, browser] = await Promise.all([startApp({ DATABASE_URL: url }), launchBrowser()]);
  database = await openDatabase(url);
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  await database?.close();
  await browser?.close();
  await app?.stop();
  await dropPg?.();
  if (dbDir) rmSync(dbDir, { recursive: true, force: true });
});

describe("rotation page", () => {
  test("a due secret is listed under Due now, a scheduled automatic one under Scheduled; works at 375 px", async () => {
    const { context, page } = await newPage(browser, app);
    const user = await signedInUser(page, app);
    const token = (await api(app, "POST", "/v1/auth/token", { body: { email: user.email, password: PASSWORD } })).body.access_token as string;
    const vault = await api(app, "POST", "/v1/vaults", { token, body: { name: "production" } });
    expect(vault.status).toBe(201);
    const vaultId = vault.body.id as string;
    const due = await api(app, "PUT", `/v1/vaults/${vaultId}/secrets/payments/stripe-key`, { token, body: { type: "api_key", value: "sk-due", rotation_policy: { interval_days: 30 } } });
    expect(due.status).toBe(201);
    const auto = await api(app, "PUT", `/v1/vaults/${vaultId}/secrets/db/password`, {
      token,
      body: { type: "password", value: "pw", rotation_policy: { interval_days: 90, auto_rotate: true } },
    });
    expect(auto.status).toBe(201);
    await database.db.secret.update({ where: { id: due.body.id as string }, data: { rotationDueAt: new Date(Date.now() - 86_400_000) } });

    await page.goto("/vaults");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Rotation" }).click();
    await page.waitForURL("**/rotation");
    await page.getByRole("heading", { name: "Rotation", level: 1 }).waitFor();

    const dueTable = page.getByRole("table", { name: "Secrets due for rotation" });
    expect(await dueTable.getByTestId("rotation-row").count()).toBe(1);
    const dueRow = dueTable.locator('[data-path="payments/stripe-key"]');
    await dueRow.getByText("rotation due").waitFor();
    await dueRow.getByText("reminder").waitFor();
    await dueRow.getByText("production").waitFor();
    await page.getByRole("heading", { name: "Due now (1)" }).waitFor();

    const scheduled = page.getByRole("table", { name: "Scheduled rotations" });
    const autoRow = scheduled.locator('[data-path="db/password"]');
    await autoRow.getByText("automatic").waitFor();
    await autoRow.getByText("90 days").waitFor();
    await page.getByRole("heading", { name: "Scheduled (1)" }).waitFor();
    // No value on the page.
    expect(await page.content()).not.toContain("sk-due");

    // The path links to its folder in the vault.
    await dueRow.getByRole("link", { name: "payments/stripe-key" }).click();
    await page.waitForURL((u) => u.pathname === `/vaults/${vaultId}` && u.searchParams.get("prefix") === "payments/");
    await page.getByTestId("secret-row").first().waitFor();
    await screenshot(page, "rotation-vault-folder");
    await context.close();

    // A phone: the page fits without sideways scrolling and the due row is there.
    const phone = await newPage(browser, app, { width: 375 });
    await signIn(phone.page, user.email, PASSWORD);
    await phone.page.goto("/rotation");
    await phone.page.getByRole("table", { name: "Secrets due for rotation" }).locator('[data-path="payments/stripe-key"]').waitFor();
    const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(phone.page, "rotation-375");
    await phone.context.close();
  }, 180_000);
});
