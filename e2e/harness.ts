import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { get as httpsGet } from "node:https";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll } from "vitest";
import { ensureBuild, freePort, startTalon, type TalonProcess, waitHealthy } from "../scripts/talon-process";
import { createPostgresDatabase, testDialect } from "../tests/helpers/server";

/**
 * End-to-end harness: the production build (`npm start`'s server, Next.js and the API in one
 * process) on a fresh data dir and database, driven by Debian's Chromium through playwright-core.
 * Nothing is mocked: mail comes from the server's outbox, passkeys from Chromium's virtual
 * authenticator.
 */
export const BUILD_TIMEOUT_MS = 20 * 60_000;
export const SCREENSHOT_DIR = path.join(import.meta.dirname, "screenshots");
const CHROMIUM = "/usr/bin/chromium";

export type App = {
  /** `http://localhost:<port>`: WebAuthn needs a secure context, and localhost is one. */
  url: string;
  dataDir: string;
  process: TalonProcess;
  stop(): Promise<void>;
};

/**
 * The usual set-up of a spec file: the production build (built once), one app and one Chromium,
 * started before its tests (handed to `onStart`) and stopped after them.
 */
export function useApp(onStart: (started: { app: App; browser: Browser }) => void, env: Record<string, string> = {}): void {
  let started: { app: App; browser: Browser } | undefined;
  beforeAll(async () => {
    ensureBuild();
    const [app, browser] = await Promise.all([startApp(env), launchBrowser()]);
    started = { app, browser };
    onStart(started);
  }, BUILD_TIMEOUT_MS);
  afterAll(async () => {
    await started?.browser.close();
    await started?.app.stop();
  });
}

/** `tls: true` serves HTTPS with a fresh self-signed certificate for localhost (contexts then ignore certificate errors). */
export async function startApp(env: Record<string, string> = {}, opts: { tls?: boolean } = {}): Promise<App> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "talon-e2e-"));
  const db = testDialect === "postgres" ? await createPostgresDatabase() : null;
  if (opts.tls) {
    const cert = path.join(dataDir, "cert.pem");
    const key = path.join(dataDir, "key.pem");
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], { stdio: "ignore" });
    Object.assign(env, { TALON_TLS_CERT_FILE: cert, TALON_TLS_KEY_FILE: key });
  }
  // The port freePort found free can be taken before Talon binds it (parallel files' servers and
  // metrics listeners bind port 0 too): then Talon exits saying so, and starts again on another port.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const url = `${opts.tls ? "https" : "http"}://localhost:${port}`;
    const p = startTalon({
      dataDir,
      port,
      env: {
        TALON_PUBLIC_URL: url,
        TALON_RATE_LIMIT_IP_PER_MINUTE: "0",
        TALON_RATE_LIMIT_PRINCIPAL_PER_MINUTE: "0",
        TALON_RATE_LIMIT_AUTH_PER_MINUTE: "0",
        ...(db ? { DATABASE_URL: db.url } : {}),
        ...env,
      },
    });
    try {
      if (opts.tls) await waitHealthyTls(p);
      else await waitHealthy(p);
    } catch (e) {
      await p.stop();
      if (attempt < 3 && p.output().includes(`port ${port} is already in use`)) continue;
      throw e;
    }
    return app(url, dataDir, p, db);
  }
}

function app(url: string, dataDir: string, p: TalonProcess, db: { drop(): Promise<void> } | null): App {
  return {
    url,
    dataDir,
    process: p,
    async stop() {
      await p.stop();
      await db?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** waitHealthy for an HTTPS instance with a self-signed certificate (fetch cannot skip verification per call). */
async function waitHealthyTls(p: TalonProcess, timeoutMs = 90_000): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (p.child.exitCode !== null) throw new Error(`Talon exited before it was healthy:\n${p.output()}`);
    const status = await new Promise<number>((resolve) => {
      httpsGet({ host: "127.0.0.1", port: p.port, path: "/v1/health", rejectUnauthorized: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on("error", () => resolve(0));
    });
    if (status === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Talon was not healthy after ${timeoutMs} ms:\n${p.output()}`);
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/** A fresh browser context (its own cookies) with clipboard access, at a desktop or phone width. */
export async function newPage(browser: Browser, app: App, opts: { width?: number } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const width = opts.width ?? 1280;
  const context = await browser.newContext({ baseURL: app.url, viewport: { width, height: width < 600 ? 800 : 860 }, ignoreHTTPSErrors: app.url.startsWith("https:") });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: app.url });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  return { context, page };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** The newest outbox mail addressed to `to`, with quoted-printable undone. */
export function mailTo(app: App, to: string): string {
  const dir = path.join(app.dataDir, "outbox");
  const files = readdirSync(dir).filter((f) => f.endsWith(".eml")).sort().reverse();
  for (const f of files) {
    const raw = readFileSync(path.join(dir, f), "utf8").replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
    if (new RegExp(`^To: .*${to.replace(/[.+]/g, "\\$&")}`, "im").test(raw)) return raw;
  }
  throw new Error(`no mail to ${to} in ${dir}`);
}

export const uniqueEmail = (tag: string) => `${tag}-${Math.random().toString(36).slice(2, 10)}@example.test`;
export const PASSWORD = "correct horse battery staple";

/** Sign-up through the pages, the confirmation link from the outbox, then the sign-in page. */
export async function signUpInBrowser(page: Page, app: App, email = uniqueEmail("e2e")): Promise<{ email: string; password: string }> {
  await page.goto("/signup");
  await page.getByLabel("Name").fill("E2E Tester");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByTestId("signup-done").waitFor();
  const link = /https?:\/\/\S+\/verify-email#token=[A-Za-z0-9_-]+/.exec(mailTo(app, email))?.[0];
  if (!link) throw new Error("no verification link in the sign-up mail");
  await page.goto(link);
  // Confirming sets the password: the page asks for it (the one chosen at sign-up is fine).
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Confirm and set password" }).click();
  await page.getByText("Your email address is confirmed").waitFor();
  return { email, password: PASSWORD };
}

export async function signIn(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.waitForURL("**/vaults");
}

/** Signs up and in, ready on /vaults. */
export async function signedInUser(page: Page, app: App): Promise<{ email: string; password: string }> {
  const user = await signUpInBrowser(page, app);
  await signIn(page, user.email, user.password);
  return user;
}

/** Chromium's virtual WebAuthn authenticator (CTAP2, resident keys, user verification) for this page. */
export async function addVirtualAuthenticator(page: Page): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
}

type Json = Record<string, unknown>;
/** A JSON call to the API (not through the browser), for checking what the UI did. */
export async function api(app: App, method: string, p: string, opts: { body?: unknown; token?: string } = {}): Promise<{ status: number; body: Json }> {
  const res = await fetch(app.url + p, {
    method,
    headers: { ...(opts.body !== undefined ? { "Content-Type": "application/json" } : {}), ...(opts.token ? { Authorization: `Bearer ${opts.token}` } : {}) },
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {} };
}
