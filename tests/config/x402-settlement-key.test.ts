import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, test } from "vitest";
import { ensureSoftHsmToken } from "../../server/keystore/softhsm-setup";

/** `npm run x402:settlement-key`: a secp256k1 key generated in the data dir's HSM token, named for the environment. */
const dataDir = mkdtempSync(path.join(tmpdir(), "talon-x402-key-"));
ensureSoftHsmToken(dataDir, "talon");
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function script(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? "", HOME: dataDir, TALON_DATA_DIR: dataDir, TALON_LOG_LEVEL: "error" };
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [path.resolve("node_modules/tsx/dist/cli.mjs"), "scripts/x402-settlement-key.ts", ...args], { env: env as NodeJS.ProcessEnv, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe("npm run x402:settlement-key", () => {
  test("generates a key in the token, prints the variable and its address; --show finds it again; unknown or malformed ids are refused", async () => {
    const made = await script([]);
    expect(made.code).toBe(0);
    const m = /^TALON_X402_SETTLEMENT_KEY=(hsm:[0-9a-f]{32})\naddress: (0x[0-9a-fA-F]{40}) \(fund it/.exec(made.stdout);
    expect(m).not.toBeNull();
    const shown = await script(["--show", m![1]!]);
    expect(shown).toMatchObject({ code: 0, stdout: `address: ${m![2]}\n` });
    const unknown = await script(["--show", `hsm:${"0".repeat(32)}`]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("the token holds no key");
    expect((await script(["--show", "0xabc"])).code).toBe(2);
  }, 120_000);
});
