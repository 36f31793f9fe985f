import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * `npm run keys:rotate` (another process, same token and database) against a running Talon server:
 * the server answers every read throughout and afterwards, with vault keys rewrapped under the new
 * master key and secrets untouched.
 */
const run = promisify(execFile);
let server: TestServer;
let api: ReturnType<typeof client>;
const vaults: { id: string; value: string }[] = [];

function keysRotate(...args: string[]) {
  const env = { ...process.env, TALON_DATA_DIR: server.dataDir, DATABASE_URL: server.databaseUrl, SOFTHSM2_CONF: "" };
  return run(process.execPath, [path.resolve("node_modules/tsx/dist/cli.mjs"), "scripts/keys-rotate.ts", ...args], { env, cwd: path.resolve(".") });
}

const secretUrl = (vaultId: string) => `/v1/vaults/${vaultId}/secrets/service/token`;

async function readAll() {
  const res = await Promise.all(vaults.map((v) => api.get(secretUrl(v.id))));
  return res.map((r, i) => ({ status: r.status, ok: r.body?.value === vaults[i]!.value }));
}

/** Reads a vault whose key is not cached, so the server sees the version on its row. */
async function readUncached(vaultId: string) {
  server.rt.vaultKeys.forget(vaultId);
  return api.get(secretUrl(vaultId));
}

async function createVault(name: string) {
  const res = await api.post("/v1/vaults", { name });
  expect(res.status).toBe(201);
  const value = `value-${name}-${Math.random().toString(36).slice(2)}`;
  expect((await api.put(secretUrl(res.body.id), { value })).status).toBe(201);
  vaults.push({ id: res.body.id, value });
  return res.body.id as string;
}

const versionOf = async (id: string) => (await server.rt.db.vault.findUniqueOrThrow({ where: { id } })).masterKeyVersion;

beforeAll(async () => {
  server = await startTestServer();
  api = client(server.url, (await signUpVerified(server)).token);
  for (let i = 0; i < 4; i++) await createVault(`before-${i}`);
});

afterAll(async () => {
  await server?.close();
});

describe("keys:rotate beside a running server", () => {
  it("rewraps to v2 while reads keep answering; new vaults then use v2", async () => {
    expect((await readAll()).every((r) => r.status === 200 && r.ok)).toBe(true);
    let reading = true;
    const during: { status: number; ok: boolean }[] = [];
    const reader = (async () => {
      while (reading) {
        for (const v of vaults) {
          server.rt.vaultKeys.forget(v.id); // every read unwraps in the HSM, racing the rewrap
          const r = await api.get(secretUrl(v.id));
          during.push({ status: r.status, ok: r.body?.value === v.value });
        }
      }
    })();
    const { stdout } = await keysRotate();
    reading = false;
    await reader;
    expect(stdout).toContain("master key: v1 -> v2 (pkcs11)");
    expect(stdout).toContain(`vault keys rewrapped: ${vaults.length}`);
    expect(during.length).toBeGreaterThan(vaults.length);
    expect(during.filter((r) => r.status !== 200 || !r.ok)).toEqual([]);

    for (const v of vaults) expect(await versionOf(v.id)).toBe(2);
    expect((await readUncached(vaults[0]!.id)).body.value).toBe(vaults[0]!.value);
    expect(await versionOf(await createVault("after-v2"))).toBe(2);
    expect((await readAll()).every((r) => r.status === 200 && r.ok)).toBe(true);
  });

  it("--destroy-old leaves only the new master key, and every vault still reads and writes", async () => {
    const { stdout } = await keysRotate("--destroy-old", "--settle-seconds", "0");
    expect(stdout).toContain("master key: v2 -> v3 (pkcs11)");
    expect(stdout).toContain("destroyed master keys: v1, v2");
    expect(await server.rt.keystore.masterKeyVersions()).toEqual([3]);

    for (const v of vaults) {
      expect(await versionOf(v.id)).toBe(3);
      const r = await readUncached(v.id);
      expect(r.status).toBe(200);
      expect(r.body.value).toBe(v.value);
    }
    expect(await versionOf(await createVault("after-v3"))).toBe(3);
    expect((await api.put(secretUrl(vaults[0]!.id), { value: "next" })).status).toBe(201);
    expect((await api.get(secretUrl(vaults[0]!.id))).body.value).toBe("next");
    const hsm = await api.get("/v1/health/hsm");
    expect(hsm.status).toBe(200);
    expect(hsm.body).toMatchObject({ status: "ok", provider: "pkcs11", connected: true });
  });
});
