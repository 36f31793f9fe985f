import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair } from "jose";
import Provider from "oidc-provider";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ensureBuild } from "../scripts/talon-process";
import { base32Decode, currentStep, totpCode } from "../server/identity/totp";
import { api, type App, BUILD_TIMEOUT_MS, launchBrowser, mailTo, newPage, PASSWORD, screenshot, startApp, uniqueEmail } from "./harness";

/**
 * "Sign in with Google" against a real OpenID Provider (the `oidc-provider` package) on loopback,
 * standing in for accounts.google.com: Talon's authorization-code flow with PKCE, state and nonce,
 * the provider's own login and consent pages in Chromium, and the result checked over the API.
 */
const CLIENT_ID = "talon-dashboard.apps.example";
const CLIENT_SECRET = randomBytes(24).toString("base64url");

let app: App;
let browser: Browser;
let idp: { issuer: string; server: Server };
/** While true, the provider sends the browser back with a state other than the one Talon gave it. */
let swapState = false;

/** The provider's HTTP server first (Talon needs its URL), the provider itself once Talon's callback URL is known. */
async function listenIdp(): Promise<{ issuer: string; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { issuer: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function attachProvider(issuer: string, server: Server, redirectUri: string): Promise<void> {
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: [redirectUri],
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_basic",
      },
    ],
    jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: "idp-key-1", alg: "RS256", use: "sig" }] },
    cookies: { keys: [randomBytes(32).toString("base64url")] },
    pkce: { required: () => true },
    // As Google does: the ID token itself carries the address (not only the userinfo endpoint).
    conformIdTokenClaims: false,
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    // The dev login page accepts any login: it becomes the account id, and here also the address.
    findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id, email: id, email_verified: true, name: "Grace Hopper" }) }),
    features: { devInteractions: { enabled: true } },
    ttl: { Interaction: 600, Session: 600, Grant: 600, AccessToken: 300, IdToken: 300, AuthorizationCode: 60 },
  });
  const handle = provider.callback();
  server.on("request", (req, res) => {
    if (swapState) {
      // Rewrites the provider's redirect back to Talon (the browser follows it, so it cannot be intercepted there).
      const setHeader = res.setHeader.bind(res);
      res.setHeader = (name, value) => {
        if (name.toLowerCase() !== "location" || typeof value !== "string" || !value.startsWith(redirectUri)) return setHeader(name, value);
        const url = new URL(value);
        url.searchParams.set("state", randomBytes(32).toString("base64url"));
        return setHeader(name, url.toString());
      };
    }
    handle(req, res);
  });
}

beforeAll(async () => {
  ensureBuild();
  idp = await listenIdp();
  [app, browser] = await Promise.all([
    startApp({ TALON_GOOGLE_ISSUER: idp.issuer, TALON_GOOGLE_CLIENT_ID: CLIENT_ID, TALON_GOOGLE_CLIENT_SECRET: CLIENT_SECRET, TALON_GOOGLE_JWKS_URL: `${idp.issuer}/jwks` }),
    launchBrowser(),
  ]);
  await attachProvider(idp.issuer, idp.server, `${app.url}/auth/google/callback`);
  const discovery = (await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json()) as { jwks_uri: string };
  expect(discovery.jwks_uri).toBe(`${idp.issuer}/jwks`);
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  idp?.server.closeAllConnections();
  await new Promise((resolve) => idp?.server.close(resolve));
});

/** From Talon's sign-in page through the provider's login and consent pages; returns the callback URL the browser was sent to. */
async function signInWithGoogle(page: Page, login: string): Promise<URL> {
  // A fresh provider session, so the provider asks for login and consent again.
  await page.context().clearCookies({ domain: "127.0.0.1" });
  let callback: URL | undefined;
  page.on("request", (r) => {
    if (r.url().startsWith(`${app.url}/auth/google/callback`)) callback = new URL(r.url());
  });
  await page.goto("/login");
  await page.getByRole("link", { name: "Sign in with Google" }).click();
  await page.waitForURL(`${idp.issuer}/interaction/**`);
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill("anything");
  await page.getByRole("button", { name: "Sign-in" }).click();
  await page.getByRole("button", { name: "Continue" }).click();
  await page.waitForURL((u) => u.origin === app.url && !u.pathname.startsWith("/auth/google/callback"));
  if (!callback) throw new Error("the provider never sent the browser to Talon's callback");
  return callback;
}

/** The signed-in user over the API: a personal key made on the account page, exchanged for a token, then /v1/auth/me. */
async function meOverApi(page: Page): Promise<Record<string, unknown>> {
  await page.goto("/account");
  await page.getByLabel("Key name", { exact: true }).fill("google-e2e");
  await page.getByRole("button", { name: "Create key" }).click();
  const key = (await page.getByTestId("new-api-key-value").textContent())!.trim();
  const token = await api(app, "POST", "/v1/auth/api-key-token", { body: { api_key: key } });
  expect(token.status).toBe(200);
  const me = await api(app, "GET", "/v1/auth/me", { token: token.body.access_token as string });
  expect(me.status).toBe(200);
  return me.body;
}

describe("Sign in with Google", () => {
  test("provider login and consent → /vaults signed in as a new, verified account; the callback cannot be replayed", async () => {
    const { context, page } = await newPage(browser, app);
    const email = uniqueEmail("google");
    await page.goto("/login");
    await page.getByRole("link", { name: "Sign in with Google" }).waitFor();
    await screenshot(page, "google-01-sign-in-page");
    const callback = await signInWithGoogle(page, email);
    await page.waitForURL("**/vaults");
    await expect.poll(() => page.getByRole("heading", { level: 1 }).first().textContent()).toBe("Vaults");
    await screenshot(page, "google-02-signed-in");

    // The request to the callback carried a code, the state and (RFC 9207) the issuer; PKCE and the nonce never travel this way.
    const code = callback.searchParams.get("code")!;
    const state = callback.searchParams.get("state")!;
    expect(code.length).toBeGreaterThan(10);
    expect(state.length).toBeGreaterThan(20);
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name.includes("authjs.session-token"))?.httpOnly).toBe(true);
    // The flow's cookie is spent.
    expect(cookies.find((c) => c.name === "talon-google-flow")).toBeUndefined();

    const me = await meOverApi(page);
    expect(me).toMatchObject({ email, email_verified: true, display_name: "Grace Hopper", role: "owner" });

    // Replaying the same callback from another browser (no flow cookie) signs nobody in.
    const thief = await newPage(browser, app);
    await thief.page.goto(callback.pathname + callback.search);
    await thief.page.waitForURL("**/login?notice=google-failed");
    await thief.page.getByText("Google sign-in did not complete.").waitFor();
    await thief.page.goto("/vaults");
    await thief.page.waitForURL("**/login");
    await thief.context.close();

    // Nothing of the exchange reached Talon's logs.
    const logs = app.process.output();
    expect(logs).not.toContain(code);
    expect(logs).not.toContain(state);
    expect(logs).not.toContain(CLIENT_SECRET);

    // Signing in again finds the same account (by Google subject), not a second one.
    await page.getByRole("button", { name: "Sign out" }).first().click();
    await page.waitForURL("**/login");
    await signInWithGoogle(page, email);
    await page.waitForURL("**/vaults");
    expect((await meOverApi(page)).id).toBe(me.id);
    await context.close();
  }, 180_000);

  test("a callback whose state does not match the cookie is refused, even with a real code", async () => {
    const { context, page } = await newPage(browser, app);
    // The state is swapped on the way back from the provider; the code stays the real one.
    swapState = true;
    let callback: URL;
    try {
      callback = await signInWithGoogle(page, uniqueEmail("wrong-state"));
    } finally {
      swapState = false;
    }
    expect(callback.searchParams.get("code")!.length).toBeGreaterThan(10);
    await page.waitForURL("**/login?notice=google-failed");
    await page.getByText("Google sign-in did not complete. Try again, or sign in another way.").waitFor();
    expect((await context.cookies()).find((c) => c.name.includes("authjs.session-token"))).toBeUndefined();
    await page.goto("/vaults");
    await page.waitForURL("**/login");

    // Positive control in the same browser: without the tampering the same steps sign in.
    await signInWithGoogle(page, uniqueEmail("right-state"));
    await page.waitForURL("**/vaults");
    await context.close();
  }, 180_000);

  test("an account with MFA still owes its code after Google: a wrong code is refused, the right one signs in", async () => {
    // A password account with TOTP, made over the API; Google then vouches for the same address.
    const email = uniqueEmail("google-mfa");
    expect((await api(app, "POST", "/v1/auth/signup", { body: { email, password: PASSWORD } })).status).toBe(201);
    const token = /[?#&]token=([A-Za-z0-9_-]+)/.exec(mailTo(app, email))![1]!;
    expect((await api(app, "POST", "/v1/auth/verify-email", { body: { token } })).status).toBe(200);
    const login = await api(app, "POST", "/v1/auth/token", { body: { email, password: PASSWORD } });
    const bearer = login.body.access_token as string;
    const setup = await api(app, "POST", "/v1/auth/mfa/setup", { token: bearer });
    const key = base32Decode(setup.body.secret as string);
    expect((await api(app, "POST", "/v1/auth/mfa/verify-setup", { token: bearer, body: { code: totpCode(key, currentStep()) } })).status).toBe(200);

    const { context, page } = await newPage(browser, app);
    await signInWithGoogle(page, email);
    await page.waitForURL("**/auth/google/mfa");
    expect((await context.cookies()).find((c) => c.name.includes("authjs.session-token"))).toBeUndefined();
    await page.getByLabel("Authentication code").fill("000000");
    await page.getByRole("button", { name: "Verify" }).click();
    await expect.poll(() => page.getByRole("alert").first().textContent()).toContain("Invalid or already used");
    await screenshot(page, "google-03-mfa-step");
    await page.getByLabel("Authentication code").fill(totpCode(key, currentStep() + 1));
    await page.getByRole("button", { name: "Verify" }).click();
    await page.waitForURL("**/vaults");
    expect((await meOverApi(page)).email).toBe(email);
    // The challenge cookie is spent with the sign-in.
    expect((await context.cookies()).find((c) => c.name === "talon-google-mfa")).toBeUndefined();
    await context.close();
  }, 180_000);

  test("without a client secret the dashboard offers no Google sign-in", async () => {
    const idOnly = await startApp({ TALON_GOOGLE_ISSUER: idp.issuer, TALON_GOOGLE_CLIENT_ID: CLIENT_ID, TALON_GOOGLE_JWKS_URL: `${idp.issuer}/jwks` });
    try {
      const { context, page } = await newPage(browser, idOnly);
      await page.goto("/login");
      await page.getByRole("button", { name: "Sign in with a passkey" }).waitFor();
      expect(await page.getByRole("link", { name: "Sign in with Google" }).count()).toBe(0);
      await page.goto("/auth/google");
      await page.waitForURL("**/login?notice=google-failed");
      await context.close();
      // Positive control: the configured app shows it.
      const configured = await newPage(browser, app);
      await configured.page.goto("/login");
      await configured.page.getByRole("link", { name: "Sign in with Google" }).waitFor();
      await configured.context.close();
    } finally {
      await idOnly.stop();
    }
  }, 120_000);
});
