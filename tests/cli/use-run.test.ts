import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createClient, type TalonClient } from "../../lib/sdk";
import { signUpVerified } from "../helpers/accounts";
import { startTestServer, type TestServer } from "../helpers/server";
import { buildCli, talon } from "./helpers";

/**
 * `talon run` with the `use` permission (issue 14 item 1): an agent that may not read a bundle can
 * still run a command with its variables (the purpose of `use`), while `talon secrets get` of the same
 * path is refused naming the permission. The CLI prints none of the values either way.
 */
let server: TestServer;
let sdk: TalonClient;
let home: string;
let agentEnv: Record<string, string>;
let vaultId: string;
const CANARY = `use-run-canary-${Math.random().toString(36).slice(2, 10)}`;

beforeAll(async () => {
  [server] = await Promise.all([startTestServer(), buildCli()]);
  const owner = await signUpVerified(server);
  sdk = createClient({ baseUrl: server.url, token: owner.token });
  vaultId = (await sdk.vaults.create({ name: "use-run" })).data!.id;
  await sdk.secrets.set(vaultId, "env/app", `APP_TOKEN=${CANARY}\n`, { type: "env_bundle" });
  const agent = (await sdk.agents.create({ name: "use-runner" })).data!;
  expect((await sdk.access.grantAgent(vaultId, agent.agent.id, ["use"], { path: "env/*" })).error).toBeNull();
  home = mkdtempSync(path.join(tmpdir(), "talon-use-run-"));
  agentEnv = { HOME: home, XDG_CONFIG_HOME: path.join(home, "config"), ONECLAW_AGENT_ID: agent.agent.id, ONECLAW_AGENT_API_KEY: agent.api_key!, ONECLAW_BASE_URL: server.url };
});
afterAll(async () => {
  await server?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

test("a use-only agent runs a command with the bundle injected, but cannot get the value", async () => {
  const proof = path.join(home, "proof.txt");
  const script = `require("fs").writeFileSync(${JSON.stringify(proof)},require("crypto").createHash("sha256").update(process.env.APP_TOKEN).digest("hex"))`;
  const ran = await talon(["run", "--vault", vaultId, "--bundle", "env/app", "--", process.execPath, "-e", script], { env: agentEnv });
  expect(ran).toMatchObject({ code: 0, stdout: "", stderr: "" });
  expect(readFileSync(proof, "utf8")).toBe(createHash("sha256").update(CANARY).digest("hex"));

  const got = await talon(["secrets", "get", vaultId, "env/app"], { env: agentEnv });
  expect(got.code).toBe(1);
  expect(got.stderr).toContain("You hold `use` on this path, not `read`");
  expect(got.stdout + got.stderr).not.toContain(CANARY);

  // Outside its policy, run is refused too (the positive control above proves the credentials).
  await sdk.secrets.set(vaultId, "other/app", `X=${CANARY}\n`, { type: "env_bundle" });
  const outside = await talon(["run", "--vault", vaultId, "--bundle", "other/app", "--", process.execPath, "-e", "0"], { env: agentEnv });
  expect(outside.code).toBe(1);
  expect(outside.stderr).toContain("No policy grants you use access");
  expect(outside.stdout + outside.stderr).not.toContain(CANARY);
});
