import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createClient, type TalonClient } from "../../lib/sdk";
import { signUpVerified } from "../helpers/accounts";
import { startTestServer, type TestServer } from "../helpers/server";
import { buildCli, talon } from "./helpers";

let server: TestServer;
let owner: Awaited<ReturnType<typeof signUpVerified>>;
let sdk: TalonClient;
let home: string;
let env: Record<string, string>;

beforeAll(async () => {
  [server] = await Promise.all([startTestServer(), buildCli()]);
  owner = await signUpVerified(server);
  sdk = createClient({ baseUrl: server.url, token: owner.token });
  home = mkdtempSync(path.join(tmpdir(), "talon-cli-home-"));
  env = { HOME: home, XDG_CONFIG_HOME: path.join(home, "config"), TALON_URL: server.url };
});
afterAll(async () => {
  await server?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

const credentialsFile = () => path.join(home, "config", "talon", "credentials.json");
const oneLine = (s: string) => s.endsWith("\n") && !s.slice(0, -1).includes("\n");

describe("talon login", () => {
  test("a wrong password exits 1 with the problem's detail on one stderr line, and stores nothing", async () => {
    const r = await talon(["login", "--email", owner.email], { env: { ...env, TALON_PASSWORD: "not-the-password" } });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^talon: .*invalid/i);
    expect(oneLine(r.stderr)).toBe(true);
    expect(() => statSync(credentialsFile())).toThrow();
  });

  test("email + password (from TALON_PASSWORD) stores the token pair in a 0600 file in a 0700 dir", async () => {
    const r = await talon(["login", "--email", owner.email], { env: { ...env, TALON_PASSWORD: owner.password } });
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(r.stdout).toBe(`Logged in to ${server.url} as ${owner.email}\n`);
    expect(statSync(credentialsFile()).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(credentialsFile())).mode & 0o777).toBe(0o700);
    const stored = JSON.parse(readFileSync(credentialsFile(), "utf8"));
    expect(stored).toMatchObject({ baseUrl: server.url, email: owner.email, access_token: expect.any(String), refresh_token: expect.any(String) });
    expect(readFileSync(credentialsFile(), "utf8")).not.toContain(owner.password);
  });
});

describe("vaults and secrets round trip (stored login)", () => {
  let vaultId: string;

  test("vaults create prints the id; list shows it; --json is JSON", async () => {
    const created = await talon(["vaults", "create", "cli-vault", "--description", "from the CLI"], { env });
    expect(created.code).toBe(0);
    vaultId = created.stdout.trim();
    expect(vaultId).toMatch(/^[0-9a-f-]{36}$/);
    const list = await talon(["vaults", "list"], { env });
    expect(list.stdout).toMatch(new RegExp(`${vaultId}\\s+cli-vault\\s+from the CLI`));
    const json = JSON.parse((await talon(["vaults", "list", "--json"], { env })).stdout);
    expect(json.vaults.map((v: { id: string }) => v.id)).toContain(vaultId);
  });

  test("put (stdin) → get prints only the value and a newline; list, versions, --json, rm", async () => {
    const put = await talon(["secrets", "put", "cli-vault", "api-keys/stripe", "--type", "api_key"], { env, input: "sk_live_canary_1\n" });
    expect(put).toMatchObject({ code: 0, stderr: "", stdout: "api-keys/stripe version 1\n" });
    const file = path.join(home, "value.txt");
    writeFileSync(file, "line1\nline2\n");
    expect((await talon(["secrets", "put", vaultId, "api-keys/stripe", "--value-file", file], { env })).code).toBe(0);

    const get = await talon(["secrets", "get", "cli-vault", "api-keys/stripe"], { env });
    expect(get).toMatchObject({ code: 0, stderr: "", stdout: "line1\nline2\n\n" });
    const json = JSON.parse((await talon(["secrets", "get", vaultId, "api-keys/stripe", "--json"], { env })).stdout);
    expect(json).toMatchObject({ path: "api-keys/stripe", version: 2, value: "line1\nline2\n" });

    const list = await talon(["secrets", "list", vaultId, "--prefix", "api-keys/"], { env });
    expect(list.stdout).toMatch(/api-keys\/stripe\s+generic\s+2/);
    expect(list.stdout).not.toContain("canary");
    const versions = JSON.parse((await talon(["secrets", "versions", vaultId, "api-keys/stripe", "--json"], { env })).stdout);
    expect(versions.versions.map((v: { version: number }) => v.version).sort()).toEqual([1, 2]);

    expect((await talon(["secrets", "rm", vaultId, "api-keys/stripe"], { env })).code).toBe(0);
    expect((await talon(["secrets", "get", vaultId, "api-keys/stripe"], { env })).code).toBe(1);
  });

  test("an empty stdin is refused (exit 2) rather than stored; a non-terminal login without TALON_PASSWORD too", async () => {
    const r = await talon(["secrets", "put", vaultId, "empty/value"], { env, input: "" });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^talon: no value on stdin/);
    const login = await talon(["login", "--email", owner.email], { env });
    expect(login.code).toBe(2);
    expect(login.stderr).toMatch(/^talon: cannot ask for "Password" without a terminal/);
  });

  test("--value works but warns on stderr that argv is visible", async () => {
    const r = await talon(["secrets", "put", vaultId, "argv/value", "--value", "visible-in-ps"], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^talon: warning: --value is visible/);
  });

  test("a missing secret exits 1 with the detail on one stderr line and nothing on stdout", async () => {
    const r = await talon(["secrets", "get", vaultId, "no/such/secret"], { env });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^talon: .*not found/i);
    expect(oneLine(r.stderr)).toBe(true);
  });
});

describe("usage, help and exit codes", () => {
  test("usage errors exit 2", async () => {
    for (const args of [["secrets", "get", "only-vault"], ["nope"], ["vaults", "list", "--bogus"], ["secrets"], ["run", "--vault", "v"], []]) {
      const r = await talon(args, { env });
      expect(r.code, args.join(" ")).toBe(2);
    }
  });

  test("--help works for every command and subcommand", async () => {
    const top = await talon(["--help"], { env });
    expect(top.code).toBe(0);
    for (const cmd of ["login", "logout", "vaults", "secrets", "agents", "run"]) {
      expect(top.stdout).toContain(`  ${cmd} `);
      const r = await talon([cmd, "--help"], { env });
      expect(r.code, cmd).toBe(0);
      expect(r.stdout, cmd).toMatch(/Usage/);
    }
    for (const sub of [["secrets", "put"], ["agents", "create"], ["vaults", "create"]]) {
      const r = await talon([...sub, "--help"], { env });
      expect(r).toMatchObject({ code: 0, stdout: expect.stringContaining(`talon ${sub.join(" ")}`) });
    }
  });
});

describe("talon run", () => {
  const A = "canary-A-7f3a9c";
  const B = "canary B with spaces=and equals";
  let vaultId: string;
  beforeAll(async () => {
    vaultId = (await sdk.vaults.create({ name: "run-vault" })).data!.id;
    await sdk.secrets.set(vaultId, "env/app", `# app settings\nCANARY_A=${A}\n\nCANARY_B="${B}"\n`, { type: "env_bundle" });
    await sdk.secrets.set(vaultId, "env/bad", `GOOD=1\n1BAD=${A}\n`, { type: "env_bundle" });
  });

  test("the child receives the variables; the CLI's own output holds none of them; the exit code passes through", async () => {
    const proof = path.join(home, "proof.txt");
    const script = `const h=require("crypto").createHash("sha256").update(process.env.CANARY_A+"|"+process.env.CANARY_B).digest("hex");require("fs").writeFileSync(${JSON.stringify(proof)},h);console.log("child ran");process.exit(7)`;
    const r = await talon(["run", "--vault", "run-vault", "--bundle", "env/app", "--", process.execPath, "-e", script], { env });
    expect(r.code).toBe(7);
    expect(readFileSync(proof, "utf8")).toBe(createHash("sha256").update(`${A}|${B}`).digest("hex"));
    expect(r.stdout).toBe("child ran\n");
    for (const canary of [A, B, "canary"]) expect(r.stdout + r.stderr).not.toContain(canary);
  });

  test("an invalid variable name is refused by line number, without quoting the line", async () => {
    const r = await talon(["run", "--vault", vaultId, "--bundle", "env/bad", "--", process.execPath, "-e", "0"], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^talon: env\/bad: line 2: invalid variable name/);
    expect(r.stderr).not.toContain(A);
  });

  test("a missing command exits 127", async () => {
    const r = await talon(["run", "--vault", vaultId, "--bundle", "env/app", "--", "/nonexistent/cmd"], { env });
    expect(r.code).toBe(127);
    expect(r.stderr + r.stdout).not.toContain(A);
  });
});

describe("credential sources", () => {
  test("agents create/list/rotate-key; ONECLAW_AGENT_ID + ONECLAW_AGENT_API_KEY authenticate as the agent", async () => {
    const vaultId = (await sdk.vaults.create({ name: "agent-cli" })).data!.id;
    await sdk.secrets.set(vaultId, "api-keys/x", "agent-value");
    const created = await talon(["agents", "create", "cli-agent", "--vault-ids", vaultId, "--token-ttl", "600", "--json"], { env });
    expect(created.code).toBe(0);
    const { agent, api_key } = JSON.parse(created.stdout);
    expect(agent).toMatchObject({ name: "cli-agent", vault_ids: [vaultId], token_ttl_seconds: 600 });
    expect((await talon(["agents", "list"], { env })).stdout).toContain(agent.id);
    await sdk.access.grantAgent(vaultId, agent.id, ["read"]);

    // The agent's variables win over the stored human login.
    const agentEnv = { ...env, ONECLAW_AGENT_ID: agent.id, ONECLAW_AGENT_API_KEY: api_key, ONECLAW_BASE_URL: server.url };
    expect((await talon(["secrets", "get", vaultId, "api-keys/x"], { env: agentEnv })).stdout).toBe("agent-value\n");
    // Bound to one vault: another is refused (a positive control above proves the credentials work).
    const otherVault = (await sdk.vaults.create({ name: "outside-binding" })).data!.id;
    const denied = await talon(["secrets", "list", otherVault], { env: agentEnv });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/^talon: /);

    const rotated = await talon(["agents", "rotate-key", agent.id], { env });
    expect(rotated.stdout).toMatch(/^API key \(shown only now\): ocv_/);
    expect((await talon(["secrets", "get", vaultId, "api-keys/x"], { env: agentEnv })).code).toBe(1);
  });

  test("TALON_API_KEY (1ck_) is used directly; login --api-key-stdin stores it", async () => {
    const key = (await sdk.apiKeys.create({ name: "cli" })).data!.api_key;
    const other = mkdtempSync(path.join(tmpdir(), "talon-cli-home2-"));
    try {
      const bare = { HOME: other, XDG_CONFIG_HOME: path.join(other, "cfg"), TALON_URL: server.url };
      expect((await talon(["vaults", "list"], { env: bare })).stderr).toMatch(/^talon: not logged in/);
      expect((await talon(["vaults", "list", "--json"], { env: { ...bare, TALON_API_KEY: key } })).code).toBe(0);
      const login = await talon(["login", "--api-key-stdin"], { env: bare, input: `${key}\n` });
      expect(login).toMatchObject({ code: 0, stdout: `Logged in to ${server.url} as ${owner.email}\n` });
      expect((await talon(["vaults", "list"], { env: bare })).stdout).toContain("cli-vault");
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  test("an expired stored access token is refreshed once and the new pair saved (still 0600)", async () => {
    const before = JSON.parse(readFileSync(credentialsFile(), "utf8"));
    writeFileSync(credentialsFile(), JSON.stringify({ ...before, expires_at: Date.now() - 1000 }), { mode: 0o600 });
    const r = await talon(["vaults", "list", "--json"], { env });
    expect(r.code).toBe(0);
    const after = JSON.parse(readFileSync(credentialsFile(), "utf8"));
    expect(after.access_token).not.toBe(before.access_token);
    expect(after.refresh_token).not.toBe(before.refresh_token);
    expect(after.expires_at).toBeGreaterThan(Date.now());
    expect(statSync(credentialsFile()).mode & 0o777).toBe(0o600);
  });

  test("logout revokes the stored token and removes the file", async () => {
    const token = JSON.parse(readFileSync(credentialsFile(), "utf8")).access_token as string;
    const r = await talon(["logout"], { env });
    expect(r).toMatchObject({ code: 0, stdout: `Logged out of ${server.url}\n` });
    expect(() => statSync(credentialsFile())).toThrow();
    expect((await createClient({ baseUrl: server.url, token }).vaults.list()).meta.status).toBe(401);
    expect((await talon(["vaults", "list"], { env })).code).toBe(1);
  });
});
