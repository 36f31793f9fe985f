import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import type { IncomingHttpHeaders } from "node:http";
import { get as httpsGet } from "node:https";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { api, ensureBuild, freePort, logIn, serverPid, signUpVerified, startTalon, type TalonProcess, waitHealthy } from "../../scripts/talon-process";
import { createPostgresDatabase, testDialect } from "../helpers/server";

/**
 * `npm start` as a self-hoster runs it: the production build, a child process, a fresh data dir.
 * Guards the start-up boundary: first start provisions the token and database, later starts reuse
 * them, instances don't share state, and bad settings stop the process with one line and no secret.
 */
const BUILD_TIMEOUT_MS = 20 * 60_000;
const EMAIL = "owner@startup.test";
const PASSWORD = "correct horse battery staple";
const SECRET_VALUE = "sk_live_startup_test_value_0123456789";

const cleanups: (() => Promise<void> | void)[] = [];
const running = new Set<TalonProcess>();

/** A temp data dir and, on the PostgreSQL run, a database of its own. */
async function newInstanceEnv(): Promise<{ dataDir: string; env: Record<string, string> }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "talon-start-"));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  if (testDialect !== "postgres") return { dataDir, env: {} };
  const db = await createPostgresDatabase();
  cleanups.push(() => db.drop());
  return { dataDir, env: { DATABASE_URL: db.url } };
}

async function start(dataDir: string, env: Record<string, string> = {}, port?: number): Promise<TalonProcess> {
  const p = startTalon({ dataDir, port: port ?? (await freePort()), env });
  running.add(p);
  void p.exited.then(() => running.delete(p));
  return p;
}

function tokenFiles(dataDir: string): string[] {
  const dir = path.join(dataDir, "hsm", "tokens");
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).sort();
}

/** Output lines, without the one Next.js prints while it loads its configuration (in parallel with start-up). */
function outputLines(text: string): string[] {
  return text.split("\n").filter((l) => l.trim() !== "" && !/^. Running next\.config\S* took/.test(l));
}

/** GET over HTTPS trusting only `ca` (fetch has no per-request CA option). */
function getTls(port: number, p: string, ca: Buffer): Promise<{ status: number; body: string; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    httpsGet({ host: "127.0.0.1", port, path: p, ca }, (res) => {
      let body = "";
      res.on("data", (b: Buffer) => (body += b.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    }).on("error", reject);
  });
}

/** A dashboard page as the production server serves it: framing, sniffing and foreign scripts forbidden. */
function expectDashboardSecurityHeaders(h: { get(name: string): string | null | undefined }) {
  const csp = h.get("content-security-policy") ?? "";
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("object-src 'none'");
  expect(csp).toContain("base-uri 'none'");
  expect(csp).toMatch(/script-src 'self'( 'unsafe-inline')?;/);
  expect(h.get("x-frame-options")).toBe("DENY");
  expect(h.get("x-content-type-options")).toBe("nosniff");
  expect(h.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
}

beforeAll(() => ensureBuild(), BUILD_TIMEOUT_MS);

afterAll(async () => {
  await Promise.all([...running].map((p) => p.stop()));
  for (const c of cleanups.reverse()) await c();
});

describe("production start-up", () => {
  let a: { dataDir: string; env: Record<string, string> };
  let vaultId = "";
  let firstToken = "";
  let firstPort = 0;
  let pinBefore = "";
  let tokenFilesBefore: string[] = [];
  let restarted: TalonProcess | undefined;

  test("first start creates the SoftHSM2 token and the database, then serves the API and the landing page", async () => {
    a = await newInstanceEnv();
    const p = await start(a.dataDir, a.env);
    firstPort = p.port;
    await waitHealthy(p);

    const health = await api(p.url, "GET", "/v1/health");
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: "ok", service: "talon" });
    const hsm = await api(p.url, "GET", "/v1/health/hsm");
    expect(hsm.status).toBe(200);
    expect(hsm.body).toMatchObject({ status: "ok", provider: "pkcs11", connected: true });

    // The dashboard (Next.js) starts with its first request, not with the API: the two requests that
    // reach it together share one start.
    expect(p.output()).not.toContain('"msg":"dashboard started"');
    const [home, first] = await Promise.all([fetch(`${p.url}/`), fetch(`${p.url}/login`)]);
    expect(first.status).toBe(200);
    await expect.poll(() => p.output().split('"msg":"dashboard started"').length - 1).toBe(1);
    expect(home.status).toBe(200);
    expect(home.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await home.text();
    expect(html).toContain("Talon");
    expect(html).toContain('href="/v1/health"');
    expectDashboardSecurityHeaders(home.headers);
    const login = await fetch(`${p.url}/login`);
    expect(login.status).toBe(200);
    expectDashboardSecurityHeaders(login.headers);
    // Plain HTTP: no HSTS, on pages or on the API.
    expect(home.headers.get("strict-transport-security")).toBeNull();
    const healthRes = await fetch(`${p.url}/v1/health`);
    expect(healthRes.headers.get("strict-transport-security")).toBeNull();
    expect(healthRes.headers.get("x-content-type-options")).toBe("nosniff");
    expect(healthRes.headers.get("referrer-policy")).toBe("no-referrer");
    // Next.js got the build's resolved configuration: it did not transpile next.config.ts, so the SWC
    // compiler's native binding (≈ 24 MB resident) was never loaded into the server.
    const pid = serverPid(p.child.pid);
    expect(pid).not.toBeNull();
    const maps = readFileSync(`/proc/${pid}/maps`, "utf8");
    expect(maps).toContain("pkcs11.node"); // control: the server's own native modules are listed
    expect(maps).not.toMatch(/next-swc|@next\/swc/);
    expect(p.output()).not.toMatch(/next\.config\.ts/);

    const pinFile = path.join(a.dataDir, "hsm", "pin");
    expect(statSync(pinFile).mode & 0o777).toBe(0o600);
    pinBefore = readFileSync(pinFile, "utf8");
    tokenFilesBefore = tokenFiles(a.dataDir);
    expect(tokenFilesBefore.length).toBeGreaterThan(0);
    if (testDialect === "sqlite") expect(statSync(path.join(a.dataDir, "talon.db")).size).toBeGreaterThan(0);

    // Data written now must be readable after a restart: it is sealed under a key inside the token.
    firstToken = await signUpVerified(p, EMAIL, PASSWORD);
    const vault = await api(p.url, "POST", "/v1/vaults", { name: "startup" }, firstToken);
    expect(vault.status).toBe(201);
    vaultId = String(vault.body.id);
    const put = await api(p.url, "PUT", `/v1/vaults/${vaultId}/secrets/api-keys/stripe`, { value: SECRET_VALUE, type: "api_key" }, firstToken);
    expect(put.status).toBe(201);

    expect(p.output()).toContain('"msg":"listening"');
    expect(p.output()).not.toContain(pinBefore.trim());
    expect(await p.stop()).toBe(0);
  });

  test("a second start on the same data dir reuses the build, the token and the data", async () => {
    // Same port: the token's issuer is the public URL, which defaults to http://localhost:<PORT>.
    const p = await start(a.dataDir, a.env, firstPort);
    restarted = p;
    await waitHealthy(p);
    expect(p.output()).not.toMatch(/building/i);
    expect(readFileSync(path.join(a.dataDir, "hsm", "pin"), "utf8")).toBe(pinBefore);
    expect(tokenFiles(a.dataDir)).toEqual(expect.arrayContaining(tokenFilesBefore));

    const login = await logIn(p.url, EMAIL, PASSWORD);
    expect(login.status).toBe(200);
    const secret = await api(p.url, "GET", `/v1/vaults/${vaultId}/secrets/api-keys/stripe`, undefined, login.token);
    expect(secret.status).toBe(200);
    expect(secret.body.value).toBe(SECRET_VALUE);
    // The JWT signing key lives in the same token, so a token issued before the restart still verifies.
    expect((await api(p.url, "GET", "/v1/vaults", undefined, firstToken)).status).toBe(200);
  });

  test.skipIf(testDialect !== "sqlite")("a second server on a SQLite database in use stops at once with one line naming it; the first keeps serving", async () => {
    const first = restarted!;
    const p = await start(a.dataDir, a.env);
    expect(await p.exited).toBe(1);
    const out = p.output();
    expect(outputLines(out)).toEqual([expect.stringMatching(/^talon: another Talon server is using the database .*: one server per SQLite database/)]);
    expect(out).toContain(path.join(a.dataDir, "talon.db"));
    // Not the migrator's busy timeout on the first server's lock, in the schema engine's words.
    expect(out).not.toMatch(/SocketTimeout|WASM_ERROR/);
    expect(first.child.exitCode).toBeNull();
    expect((await api(first.url, "GET", "/v1/vaults", undefined, firstToken)).status).toBe(200);
  });

  test("two instances run side by side on their own ports, data dirs and tokens", async () => {
    const first = restarted;
    expect(first?.child.exitCode).toBeNull();
    const b = await newInstanceEnv();
    const second = await start(b.dataDir, b.env);
    await waitHealthy(second);
    expect(second.port).not.toBe(first!.port);
    for (const p of [first!, second]) expect((await api(p.url, "GET", "/v1/health/hsm")).body).toMatchObject({ status: "ok", provider: "pkcs11" });

    // Positive control on the first instance, then the boundary: its token means nothing to the second.
    expect((await api(first!.url, "GET", "/v1/vaults", undefined, firstToken)).status).toBe(200);
    expect((await api(second.url, "GET", "/v1/vaults", undefined, firstToken)).status).toBe(401);
    expect(readFileSync(path.join(b.dataDir, "hsm", "pin"), "utf8")).not.toBe(pinBefore);

    expect(await second.stop()).toBe(0);
    expect(await first!.stop()).toBe(0);
  });

  test("a wrong PIN stops start-up at once with one clear line and no PIN in the output", async () => {
    const wrongPin = `wrong-pin-${Math.random().toString(36).slice(2)}`;
    const startedAt = Date.now();
    const p = await start(a.dataDir, { ...a.env, TALON_PKCS11_PIN: wrongPin });
    const code = await p.exited;
    expect(code).toBe(1);
    expect(Date.now() - startedAt).toBeLessThan(30_000);
    const out = p.output();
    expect(outputLines(out)).toEqual([expect.stringMatching(/^talon: .*PIN.*TALON_PKCS11_PIN/)]);
    expect(out).not.toContain(wrongPin);
    expect(out).not.toContain(pinBefore.trim());
  });

  test("serves HTTPS itself when TALON_TLS_CERT_FILE and TALON_TLS_KEY_FILE are set, and no plain HTTP", async () => {
    const b = await newInstanceEnv();
    const cert = path.join(b.dataDir, "cert.pem");
    const key = path.join(b.dataDir, "key.pem");
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
    const p = await start(b.dataDir, { ...b.env, TALON_TLS_CERT_FILE: cert, TALON_TLS_KEY_FILE: key });
    const ca = readFileSync(cert);
    let health: Awaited<ReturnType<typeof getTls>> | undefined;
    for (const deadline = Date.now() + 90_000; !health && Date.now() < deadline; ) {
      if (p.child.exitCode !== null) throw new Error(`Talon exited early:\n${p.output()}`);
      health = await getTls(p.port, "/v1/health", ca).catch(() => undefined);
      if (!health) await new Promise((r) => setTimeout(r, 200));
    }
    expect(health?.status).toBe(200);
    expect(JSON.parse(health!.body)).toMatchObject({ status: "ok", service: "talon" });
    expect(health?.headers["strict-transport-security"]).toBe("max-age=31536000");
    const page = await getTls(p.port, "/", ca);
    expect(page.status).toBe(200);
    expect(page.headers["strict-transport-security"]).toBe("max-age=31536000");
    expectDashboardSecurityHeaders({ get: (name) => page.headers[name] as string | undefined });
    expect(await fetch(`http://127.0.0.1:${p.port}/v1/health`).then((r) => r.status, () => "refused")).toBe("refused");
    expect(p.output()).toContain(`"url":"https://127.0.0.1:${p.port}"`);
    expect(await p.stop()).toBe(0);
  });

  test("an invalid PORT exits with one line naming PORT", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "talon-start-"));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const p = startTalon({ dataDir, port: 1, env: { PORT: "abc" } });
    expect(await p.exited).toBe(1);
    expect(outputLines(p.output())).toEqual([expect.stringMatching(/^talon: Invalid configuration: PORT /)]);
  });
});
