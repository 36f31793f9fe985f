import { createHash, randomUUID } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { decodeCmekKey, decryptCmekValue, encryptCmekValue, importCmekKey, cmekKeyFileText, generateCmekKeyBytes } from "../lib/crypto/cmek";
import { ensureBuild } from "../scripts/talon-process";
import { type Database, openDatabase } from "../server/db";
import { createPostgresDatabase, testDialect } from "../tests/helpers/server";
import { api, type App, BUILD_TIMEOUT_MS, launchBrowser, newPage, PASSWORD, screenshot, signedInUser, startApp } from "./harness";

/**
 * Customer-managed keys in the dashboard (issue 12): the browser generates the key, offers it as a
 * download and shows its SHA-256 fingerprint; only the fingerprint reaches the server. A value stored
 * through the page is a client-made blob (cmek_encrypted) the API returns as is; revealing it asks for
 * the key file and decrypts in the browser; a wrong key is refused by name; a rotation runs as a server
 * job with a progress bar to 100 %, after which the new key opens the value and the old one does not.
 * Neither key ever appears in the server's log or its data directory.
 */
let app: App;
let browser: Browser;
let work: string;
/** The app's database, opened beside it: the reload test leaves a job as a killed server would. */
let database: Database;
let dropPg: (() => Promise<void>) | null = null;

beforeAll(async () => {
  ensureBuild();
  work = mkdtempSync(path.join(tmpdir(), "talon-e2e-cmek-"));
  let url = `file:${path.join(work, "talon.db")}`;
  if (testDialect === "postgres") {
    const pg = await createPostgresDatabase();
    url = pg.url;
    dropPg = () => pg.drop();
  }
  [app, browser] = await Promise.all([startApp({ TALON_LOG_LEVEL: "debug", DATABASE_URL: url }), launchBrowser()]);
  database = await openDatabase(url);
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  await database?.close();
  await browser?.close();
  await app?.stop();
  await dropPg?.();
  if (work) rmSync(work, { recursive: true, force: true });
});

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** Every file under `dir`, for a search of the server's data directory. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(p) : e.isFile() && statSync(p).size < 512 * 1024 * 1024 ? [p] : [];
  });
}

/** Generates a key in the "Use my own key" or rotate dialog, downloads it, and ticks "I saved it". */
async function generateAndDownload(page: Page, dialog: ReturnType<Page["getByRole"]>, name: string) {
  await dialog.getByRole("button", { name: "Generate a key in this browser" }).click();
  const shown = (await dialog.getByTestId("new-key-fingerprint").textContent())?.trim() ?? "";
  const [download] = await Promise.all([page.waitForEvent("download"), dialog.getByRole("link", { name: "Download key file" }).click()]);
  const file = path.join(work, name);
  await download.saveAs(file);
  const text = readFileSync(file, "utf8");
  const raw = decodeCmekKey(text, "the downloaded key file");
  expect(download.suggestedFilename()).toMatch(/^talon-.+-[0-9a-f]{16}\.key$/);
  expect(shown).toBe(sha256(raw));
  await dialog.getByLabel("I saved this key somewhere safe").check();
  return { file, text: text.trim(), raw, fingerprint: shown };
}

async function reveal(page: Page, secretPath: string) {
  await page.getByRole("button", { name: `Reveal ${secretPath}` }).click();
}

describe("customer-managed keys in the dashboard", () => {
  test("generate, download, enable, store, reveal with the key file, rotate to 100 %, then only the new key opens it", async () => {
    const { page } = await newPage(browser, app);
    const user = await signedInUser(page, app);
    const token = (await api(app, "POST", "/v1/auth/token", { body: { email: user.email, password: PASSWORD } })).body.access_token as string;

    // An empty vault: "Use my own key".
    const vaultId = (await api(app, "POST", "/v1/vaults", { token, body: { name: "customer-keyed" } })).body.id as string;
    await page.goto(`/vaults/${vaultId}`);
    await page.getByRole("button", { name: "Use my own key" }).click();
    const enable = page.getByRole("dialog", { name: "Use my own key" });
    const turnOn = enable.getByRole("button", { name: "Turn on customer-managed key" });
    await enable.getByRole("button", { name: "Generate a key in this browser" }).waitFor();
    expect(await turnOn.isDisabled()).toBe(true);
    const first = await generateAndDownload(page, enable, "first.key");
    await turnOn.click();
    await enable.waitFor({ state: "hidden" });
    await page.getByTestId("cmek-fingerprint").waitFor();
    expect((await page.getByTestId("cmek-fingerprint").textContent())?.trim()).toBe(first.fingerprint);
    const vault = await api(app, "GET", `/v1/vaults/${vaultId}`, { token });
    expect(vault.body).toMatchObject({ cmek_enabled: true, cmek_fingerprint: first.fingerprint });
    // The key generated for the vault stays loaded in this tab.
    expect(await page.getByTestId("cmek-key-state").textContent()).toContain("Key loaded in this tab only");

    // Store a value through the page: it is encrypted in the browser before it is sent.
    await page.getByRole("button", { name: "New secret" }).click();
    const form = page.getByRole("dialog", { name: "New secret" });
    await form.getByLabel("Path").fill("stripe-key");
    await form.getByLabel("Value", { exact: true }).fill("sk_live_cmek_e2e_value");
    await form.getByRole("button", { name: "Save secret" }).click();
    await form.waitFor({ state: "hidden" });
    const stored = await api(app, "GET", `/v1/vaults/${vaultId}/secrets/stripe-key`, { token });
    expect(stored.status).toBe(200);
    expect(stored.body.cmek_encrypted).toBe(true);
    expect(stored.body.value).not.toContain("sk_live_cmek_e2e_value");
    const firstKey = await importCmekKey(first.raw);
    expect(await decryptCmekValue(firstKey, { vaultId, path: "stripe-key" }, stored.body.value as string)).toBe("sk_live_cmek_e2e_value");
    // A few more versions through the API (the SDK's way), so the rotation has more than one to move.
    for (let i = 0; i < 5; i++) {
      const value = await encryptCmekValue(firstKey, { vaultId, path: `more/s${i}` }, `more-${i}`);
      expect((await api(app, "PUT", `/v1/vaults/${vaultId}/secrets/more/s${i}`, { token, body: { value } })).status).toBe(201);
    }

    // A fresh load of the page holds no key: Reveal asks for the key file; a wrong key is refused clearly.
    await page.goto(`/vaults/${vaultId}`);
    expect(await page.getByTestId("cmek-key-state").textContent()).toContain("No key loaded");
    await reveal(page, "stripe-key");
    const ask = page.getByRole("dialog", { name: "Load this vault's key" });
    const wrong = path.join(work, "wrong.key");
    writeFileSync(wrong, cmekKeyFileText(generateCmekKeyBytes()));
    await ask.getByLabel("Key file").setInputFiles(wrong);
    await ask.getByTestId("cmek-key-error").waitFor();
    expect(await ask.getByTestId("cmek-key-error").textContent()).toContain("This is not the right key");
    await ask.getByLabel("Key file").setInputFiles(first.file);
    await ask.waitFor({ state: "hidden" });
    await page.getByTestId("secret-value").waitFor();
    expect(await page.getByTestId("secret-value").textContent()).toBe("sk_live_cmek_e2e_value");
    await screenshot(page, "cmek-revealed");

    // Rotate: the current key is the one loaded; a new one is generated and downloaded; the job's
    // progress bar polls to 100 %.
    await page.getByRole("button", { name: "Rotate key" }).click();
    const rotate = page.getByRole("dialog", { name: "Rotate the customer key" });
    await rotate.getByText("Current key: loaded in this tab").waitFor();
    const second = await generateAndDownload(page, rotate, "second.key");
    expect(second.fingerprint).not.toBe(first.fingerprint);
    await rotate.getByRole("button", { name: "Start rotation" }).click();
    const bar = rotate.getByRole("progressbar", { name: "Customer key job progress" });
    await bar.waitFor();
    await rotate.getByText("Every version is now under the new key").waitFor();
    expect(await bar.getAttribute("aria-valuenow")).toBe("100");
    expect(await rotate.getByTestId("cmek-job-status").textContent()).toContain("6 of 6 versions · 100 % · done");
    await screenshot(page, "cmek-rotated");
    await rotate.getByRole("button", { name: "Close" }).click();
    await rotate.waitFor({ state: "hidden" });
    await page.waitForFunction((f) => document.querySelector('[data-testid="cmek-fingerprint"]')?.textContent?.trim() === f, second.fingerprint);
    expect((await api(app, "GET", `/v1/vaults/${vaultId}`, { token })).body.cmek_fingerprint).toBe(second.fingerprint);
    const rotated = await api(app, "GET", `/v1/vaults/${vaultId}/secrets/stripe-key`, { token });
    expect(await decryptCmekValue(await importCmekKey(second.raw), { vaultId, path: "stripe-key" }, rotated.body.value as string)).toBe("sk_live_cmek_e2e_value");

    // After a reload: the old key is refused, the new one opens the value.
    await page.goto(`/vaults/${vaultId}`);
    await reveal(page, "stripe-key");
    await ask.getByLabel("Key file").setInputFiles(first.file);
    await ask.getByTestId("cmek-key-error").waitFor();
    expect(await ask.getByTestId("cmek-key-error").textContent()).toContain("This is not the right key");
    await ask.getByLabel("Key file").setInputFiles(second.file);
    await ask.waitFor({ state: "hidden" });
    await page.getByTestId("secret-value").waitFor();
    expect(await page.getByTestId("secret-value").textContent()).toBe("sk_live_cmek_e2e_value");

    // Turn it off: the job decrypts with the key in the server's memory and stores plain values again.
    await page.getByRole("button", { name: "Turn off" }).click();
    const off = page.getByRole("dialog", { name: "Stop using my own key" });
    await off.getByRole("button", { name: "Turn off customer-managed key" }).click();
    await off.getByText("Every version is stored without your key now").waitFor();
    await off.getByRole("button", { name: "Close" }).click();
    await off.waitFor({ state: "hidden" });
    // Off again, with secrets in it: the card offers to encrypt them in the browser.
    await page.getByTestId("cmek-existing").waitFor();
    expect((await api(app, "GET", `/v1/vaults/${vaultId}/secrets/stripe-key`, { token })).body).toMatchObject({ value: "sk_live_cmek_e2e_value", cmek_encrypted: false });

    // Neither key, in base64 or in hex, is in the server's log or anywhere in its data directory.
    const log = app.process.output();
    expect(log.length).toBeGreaterThan(0);
    for (const k of [first, second]) {
      const hex = Buffer.from(k.raw).toString("hex");
      expect(log).not.toContain(k.text);
      expect(log).not.toContain(hex);
      const dbFiles = readdirSync(work).filter((f) => f.startsWith("talon.db")).map((f) => path.join(work, f));
      for (const f of [...filesUnder(app.dataDir), ...dbFiles]) {
        const bytes = readFileSync(f);
        expect(bytes.includes(Buffer.from(k.text)), f).toBe(false);
        expect(bytes.includes(Buffer.from(k.raw)), f).toBe(false);
      }
    }
    if (testDialect === "postgres") {
      // PostgreSQL keeps its files elsewhere; the API's own view of every version is the check there.
      expect(JSON.stringify((await api(app, "GET", `/v1/vaults/${vaultId}`, { token })).body)).not.toContain(second.text);
    }
  }, 180_000);

  test("a vault with plaintext secrets: the browser reads, encrypts and swaps in every version; the key file then reveals them", async () => {
    const { page } = await newPage(browser, app);
    const user = await signedInUser(page, app);
    const token = (await api(app, "POST", "/v1/auth/token", { body: { email: user.email, password: PASSWORD } })).body.access_token as string;
    const vaultId = (await api(app, "POST", "/v1/vaults", { token, body: { name: "plain-first" } })).body.id as string;
    for (const [p, value] of [["legacy", "already-here-1"], ["legacy", "already-here-2"], ["db/password", "plain-db-password"], ["old", "disabled-value"]]) {
      expect((await api(app, "PUT", `/v1/vaults/${vaultId}/secrets/${p}`, { token, body: { value } })).status).toBe(201);
    }
    // A disabled version can never be read again: it is erased rather than encrypted.
    expect((await api(app, "POST", `/v1/vaults/${vaultId}/secret-version-disable/old/1`, { token, body: {} })).status).toBe(204);

    await page.goto(`/vaults/${vaultId}`);
    expect(await page.getByTestId("cmek-existing").textContent()).toContain("holds 3 secrets");
    await page.getByRole("button", { name: "Use my own key" }).click();
    const enable = page.getByRole("dialog", { name: "Use my own key" });
    const encrypt = enable.getByRole("button", { name: "Encrypt 3 existing versions in this browser" });
    await encrypt.waitFor();
    expect(await encrypt.isDisabled()).toBe(true);
    expect(await enable.getByTestId("cmek-erased").textContent()).toContain("1 version can never be read again");
    const key = await generateAndDownload(page, enable, "existing.key");
    await screenshot(page, "cmek-existing-plan");
    await encrypt.click();
    await enable.waitFor({ state: "hidden" });
    await page.getByTestId("cmek-fingerprint").waitFor();
    expect((await page.getByTestId("cmek-fingerprint").textContent())?.trim()).toBe(key.fingerprint);

    // Every readable version, history included, is now a blob under the key; the server only returns it.
    const k = await importCmekKey(key.raw);
    const v1 = await api(app, "GET", `/v1/vaults/${vaultId}/secret-version/legacy/1`, { token });
    expect(v1.body.cmek_encrypted).toBe(true);
    expect(await decryptCmekValue(k, { vaultId, path: "legacy" }, v1.body.value as string)).toBe("already-here-1");
    const db = await api(app, "GET", `/v1/vaults/${vaultId}/secrets/db/password`, { token });
    expect(JSON.stringify(db.body)).not.toContain("plain-db-password");
    expect(await decryptCmekValue(k, { vaultId, path: "db/password" }, db.body.value as string)).toBe("plain-db-password");
    expect((await api(app, "GET", `/v1/vaults/${vaultId}/secrets/old`, { token })).status).toBe(410);

    // A fresh load holds no key: Reveal asks for the key file and decrypts here.
    await page.goto(`/vaults/${vaultId}`);
    await reveal(page, "legacy");
    const ask = page.getByRole("dialog", { name: "Load this vault's key" });
    await ask.getByLabel("Key file").setInputFiles(key.file);
    await ask.waitFor({ state: "hidden" });
    await page.getByTestId("secret-value").waitFor();
    expect(await page.getByTestId("secret-value").textContent()).toBe("already-here-2");
    expect(app.process.output()).not.toContain("plain-db-password");
  }, 120_000);

  test("a reload during a key job: the card picks up the job's progress bar, resumes the stopped job with the same keys and follows it to the end", async () => {
    const { page } = await newPage(browser, app);
    const user = await signedInUser(page, app);
    const token = (await api(app, "POST", "/v1/auth/token", { body: { email: user.email, password: PASSWORD } })).body.access_token as string;
    const oldRaw = generateCmekKeyBytes();
    const newRaw = generateCmekKeyBytes();
    const [oldKey, newKey] = await Promise.all([importCmekKey(oldRaw), importCmekKey(newRaw)]);
    const vaultId = (await api(app, "POST", "/v1/vaults", { token, body: { name: "mid-rotation" } })).body.id as string;
    expect((await api(app, "POST", `/v1/vaults/${vaultId}/cmek`, { token, body: { fingerprint: oldKey.fingerprint } })).status).toBe(200);
    for (let i = 0; i < 8; i++) {
      const value = await encryptCmekValue(oldKey, { vaultId, path: `r/s${i}` }, `rotating-${i}`);
      expect((await api(app, "PUT", `/v1/vaults/${vaultId}/secrets/r/s${i}`, { token, body: { value } })).status).toBe(201);
    }
    // A rotation whose server was killed: the job row stays running, its heartbeat a minute old, the vault naming it.
    const jobId = randomUUID();
    const vault = await database.db.vault.findUniqueOrThrow({ where: { id: vaultId }, select: { orgId: true } });
    await database.db.cmekRotationJob.create({
      data: { id: jobId, orgId: vault.orgId, vaultId, oldFingerprint: oldKey.fingerprint, newFingerprint: newKey.fingerprint, status: "running", total: 8, createdBy: user.email, updatedAt: new Date(Date.now() - 60_000) },
    });
    await database.db.vault.update({ where: { id: vaultId }, data: { cmekRotationJobId: jobId } });
    expect((await api(app, "GET", `/v1/vaults/${vaultId}`, { token })).body.cmek_job_id).toBe(jobId);

    await page.goto(`/vaults/${vaultId}`);
    await page.reload();
    const bar = page.getByRole("progressbar", { name: "Customer key job progress" });
    await bar.waitFor();
    expect(await page.getByTestId("cmek-job-status").textContent()).toContain("0 of 8 versions · 0 % · running");
    await page.getByText("The job is not making progress").waitFor();
    await screenshot(page, "cmek-job-after-reload");

    // Resume it from the card with the same two keys (the key files saved when it started): the same
    // job goes on, and the card follows it to the end and shows the new key.
    const oldFile = path.join(work, "mid-old.key");
    const newFile = path.join(work, "mid-new.key");
    writeFileSync(oldFile, cmekKeyFileText(oldRaw));
    writeFileSync(newFile, cmekKeyFileText(newRaw));
    await page.getByRole("button", { name: "Resume with the same keys" }).click();
    const resume = page.getByRole("dialog", { name: "Resume the key job" });
    await resume.getByLabel("Current key file").setInputFiles(newFile);
    await resume.getByTestId("cmek-key-error").waitFor();
    expect(await resume.getByRole("button", { name: "Resume" }).isDisabled()).toBe(true);
    await resume.getByLabel("Current key file").setInputFiles(oldFile);
    await resume.getByLabel("New key file (the one saved when this rotation started)").setInputFiles(newFile);
    await resume.getByText("New key: loaded.").waitFor();
    await resume.getByRole("button", { name: "Resume" }).click();
    await resume.waitFor({ state: "hidden" });
    await page.waitForFunction((f) => document.querySelector('[data-testid="cmek-fingerprint"]')?.textContent?.trim() === f, newKey.fingerprint);
    expect(await page.getByTestId("cmek-job").count()).toBe(0);
    expect((await database.db.cmekRotationJob.findUniqueOrThrow({ where: { id: jobId } })).status).toBe("completed");
    const read = await api(app, "GET", `/v1/vaults/${vaultId}/secrets/r/s7`, { token });
    expect(await decryptCmekValue(newKey, { vaultId, path: "r/s7" }, read.body.value as string)).toBe("rotating-7");
  }, 120_000);
});
