import type { Browser, Page } from "playwright-core";
import { describe, expect, test } from "vitest";
import { api, type App, newPage, PASSWORD, screenshot, signedInUser, useApp } from "./harness";

/**
 * The vault page's everyday basics (issue 11 items 2, 3, 5), checked against the API: "New secret" on
 * an existing path asks before storing version n+1 and keeps its metadata; the version history names
 * authors, shows, compares and restores old versions (each an audited read); a value can be copied
 * without being shown, hides itself after 30 s, and the last read of a limited version asks first.
 */
let app: App;
let browser: Browser;
useApp((started) => ({ app, browser } = started));

async function tokenFor(email: string): Promise<string> {
  const r = await api(app, "POST", "/v1/auth/token", { body: { email, password: PASSWORD } });
  expect(r.status).toBe(200);
  return r.body.access_token as string;
}

async function setup(page: Page, name: string) {
  const user = await signedInUser(page, app);
  const token = await tokenFor(user.email);
  const r = await api(app, "POST", "/v1/vaults", { token, body: { name } });
  expect(r.status).toBe(201);
  const vaultId = r.body.id as string;
  const secret = (path: string) => `/v1/vaults/${vaultId}/secrets/${path}`;
  return { user, token, vaultId, secret };
}

async function openVault(page: Page, vaultId: string) {
  await page.goto(`/vaults/${vaultId}`);
  await page.getByRole("heading", { level: 1 }).first().waitFor();
}

async function auditActions(token: string, secretId: string) {
  const r = await api(app, "GET", `/v1/audit/events?resource_id=${secretId}&limit=100`, { token });
  expect(r.status).toBe(200);
  return r.body.events as { action: string; details: { version?: number } }[];
}

describe("vault page basics", () => {
  test("New secret on an existing path warns, keeps the metadata and stores version n+1", async () => {
    const { page } = await newPage(browser, app);
    const { token, vaultId, secret } = await setup(page, "overwrite");
    expect((await api(app, "PUT", secret("svc/db"), { token, body: { value: "one", type: "password", metadata: { owner: "team-db" } } })).status).toBe(201);
    await openVault(page, vaultId);

    await page.getByRole("button", { name: "New secret" }).click();
    const dialog = page.getByRole("dialog", { name: "New secret" });
    await dialog.getByLabel("Path").fill("svc/db");
    await dialog.getByLabel("Value", { exact: true }).fill("two");
    await dialog.getByRole("button", { name: "Save secret" }).click();
    await dialog.getByText("svc/db exists — store version 2?").waitFor();
    // Nothing was written by the first Save.
    expect((await api(app, "GET", secret("svc/db"), { token })).body.version).toBe(1);
    expect(await dialog.getByLabel("Metadata (JSON)").inputValue()).toContain("team-db");
    await screenshot(page, "new-secret-exists");
    await dialog.getByRole("button", { name: "Store version 2" }).click();
    await dialog.waitFor({ state: "hidden" });
    const read = await api(app, "GET", secret("svc/db"), { token });
    expect(read.body).toMatchObject({ value: "two", version: 2, type: "password", metadata: { owner: "team-db" } });

    // A free path saves at once (positive control).
    await page.getByRole("button", { name: "New secret" }).click();
    await dialog.getByLabel("Path").fill("svc/new");
    await dialog.getByLabel("Value", { exact: true }).fill("fresh");
    await dialog.getByRole("button", { name: "Save secret" }).click();
    await dialog.waitFor({ state: "hidden" });
    expect((await api(app, "GET", secret("svc/new"), { token })).body).toMatchObject({ value: "fresh", version: 1 });
  }, 120_000);

  test("version history: author names, view, compare and restore as a new version, all audited", async () => {
    const { page } = await newPage(browser, app, { width: 1440 });
    const { user, token, vaultId, secret } = await setup(page, "history");
    const first = await api(app, "PUT", secret("app-env"), { token, body: { value: "A=1\nB=2\nC=3", type: "env" } });
    await api(app, "PUT", secret("app-env"), { token, body: { value: "A=1\nB=20\nC=3\nD=4", type: "env" } });
    const secretId = first.body.id as string;
    await openVault(page, vaultId);

    await page.getByRole("button", { name: "Versions of app-env" }).click();
    const dialog = page.getByRole("dialog", { name: "Versions of app-env" });
    const v1 = dialog.locator('[data-testid="version-row"][data-version="1"]');
    await v1.waitFor();
    expect(await v1.textContent()).toContain(user.email);
    expect(await v1.textContent()).not.toContain("user:");
    // Wide enough for its columns: the table does not scroll sideways at 1440 px.
    const box = await dialog.boundingBox();
    expect(box!.width).toBeGreaterThan(900);

    await dialog.getByRole("button", { name: "View version 1" }).click();
    const view = dialog.getByTestId("version-value");
    await view.getByText("B=2").waitFor();
    await view.getByRole("button", { name: "Copy" }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe("A=1\nB=2\nC=3");
    await view.getByRole("button", { name: "Hide" }).click();

    await dialog.getByLabel("Compare version 1").check();
    await dialog.getByLabel("Compare version 2").check();
    await dialog.getByRole("button", { name: "Compare v1 and v2" }).click();
    const diff = dialog.getByTestId("version-diff");
    await diff.locator('[data-kind="added"]').first().waitFor();
    expect(await diff.locator('[data-kind="removed"]').allTextContents()).toEqual([expect.stringContaining("B=2")]);
    expect((await diff.locator('[data-kind="added"]').allTextContents()).join("|")).toMatch(/B=20.*\|.*D=4/);
    await screenshot(page, "version-compare");

    await v1.getByRole("button", { name: "Restore" }).click();
    await page.getByRole("dialog", { name: "Restore version 1 of app-env?" }).getByRole("button", { name: "Store as version 3" }).click();
    await dialog.locator('[data-testid="version-row"][data-version="3"]').waitFor();
    expect((await api(app, "GET", secret("app-env"), { token })).body).toMatchObject({ value: "A=1\nB=2\nC=3", version: 3, type: "env" });

    // Each view is a read of that version: view, compare (v1, v2), restore (v1), then the API read above.
    const events = await auditActions(token, secretId);
    const reads = events.filter((e) => e.action === "secret.read").map((e) => e.details.version);
    expect(reads.filter((v) => v === 1)).toHaveLength(3);
    expect(reads.filter((v) => v === 2)).toHaveLength(1);
    expect(events.filter((e) => e.action === "secret.write").map((e) => e.details.version).sort()).toEqual([1, 2, 3]);
  }, 120_000);

  test("safe reveal: copy without showing, focus stays, auto-hide after 30 s, last read asks first", async () => {
    const { page } = await newPage(browser, app);
    const { token, vaultId, secret } = await setup(page, "reveal");
    await api(app, "PUT", secret("k-plain"), { token, body: { value: "plain-value-123" } });
    await api(app, "PUT", secret("k-limited"), { token, body: { value: "limited-value-456", max_access_count: 2 } });
    await openVault(page, vaultId);

    // Copy without showing: the clipboard has it, the page never did.
    await page.getByRole("button", { name: "Copy k-plain" }).click();
    await page.getByRole("button", { name: "Copy k-plain" }).getByText("Copied").waitFor();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe("plain-value-123");
    expect(await page.content()).not.toContain("plain-value-123");

    // Reveal keeps focus on the same control (now Hide), and the value hides itself after 30 s.
    const reveal = page.getByRole("button", { name: "Reveal k-plain" });
    await reveal.focus();
    await reveal.click();
    await page.getByTestId("secret-value").getByText("plain-value-123").waitFor();
    expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe("Hide k-plain");
    await page.getByTestId("secret-value").waitFor({ state: "detached", timeout: 40_000 });
    expect(await page.content()).not.toContain("plain-value-123");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe("Reveal k-plain");

    // The limited secret: the first reveal goes straight through (one of two reads left after it).
    await page.getByRole("button", { name: "Reveal k-limited" }).click();
    await page.getByTestId("secret-value").getByText("limited-value-456").waitFor();
    await page.getByRole("button", { name: "Hide k-limited" }).click();
    await page.waitForFunction(() => !document.body.textContent?.includes("limited-value-456"));
    // Its last read asks first; Cancel spends nothing.
    await page.getByRole("button", { name: "Reveal k-limited" }).click();
    const warning = page.getByRole("alert").filter({ hasText: "last read" });
    await warning.waitFor();
    await screenshot(page, "last-read-warning");
    await warning.getByRole("button", { name: "Cancel" }).click();
    // Nothing was read: a fresh page still counts one read of two, and still asks first.
    await page.reload();
    expect(await page.locator('[data-testid="secret-row"][data-path="k-limited"]').textContent()).toContain("1 / 2");
    await page.getByRole("button", { name: "Reveal k-limited" }).click();
    await warning.getByRole("button", { name: "Reveal anyway" }).click();
    await page.getByTestId("secret-value").getByText("limited-value-456").waitFor();
    expect((await api(app, "GET", secret("k-limited"), { token })).status).toBe(410);
  }, 120_000);
});
