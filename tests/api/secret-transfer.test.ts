import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZExportSecretsRequest, ZImportSecretsRequest } from "../../lib/contract/secret-transfer";
import { parseDotenv } from "../../lib/env-file";
import { ApiError } from "../../server/http/errors";
import type { Ctx } from "../../server/http/principal";
import { exportSecrets, importSecrets } from "../../server/secrets/transfer";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { addOrgUser, NO_RATE_LIMITS } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * The dashboard's bulk import (a .env's variables, one new version each) and folder export (.env or
 * JSON, one audited read per secret, never a value in the audit log), through the services its server
 * actions call, as the signed-in owner, a member with a narrow policy, and another org's owner.
 */
let server: TestServer;
let owner: Awaited<ReturnType<typeof signUpVerified>>;
let api: ReturnType<typeof client>;
let vaultId: string;
const s = (p: string) => `/v1/vaults/${vaultId}/secrets/${p}`;

const sessionCtx = (a: { userId: string; orgId: string }, role: "owner" | "member" = "owner"): Ctx => ({
  rt: server.rt,
  principal: { kind: "user", userId: a.userId, orgId: a.orgId, role, via: "session", credentialId: randomUUID() },
  requestId: randomUUID(),
  ip: "127.0.0.1",
});

async function statusOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (e) {
    if (e instanceof ApiError) return e.status;
    throw e;
  }
}

const importInput = (entries: { path: string; value: string }[], type?: string) => ZImportSecretsRequest.parse({ vault_id: vaultId, entries, ...(type ? { type } : {}) });
const exportInput = (prefix: string, format: "env" | "json") => ZExportSecretsRequest.parse({ vault_id: vaultId, prefix, format });

beforeAll(async () => {
  server = await startTestServer({ env: NO_RATE_LIMITS });
  owner = await signUpVerified(server);
  api = client(server.url, owner.token);
  vaultId = (await api.post("/v1/vaults", { name: "transfer test" })).body.id;
});
afterAll(async () => {
  await server?.close();
});

describe("import", () => {
  it("stores one new version per variable; existing paths keep their type and metadata", async () => {
    await api.put(s("app/DB_URL"), { value: "old", type: "password", metadata: { owner: "db" } });
    const r = await importSecrets(sessionCtx(owner), importInput([
      { path: "app/DB_URL", value: "postgres://new-canary-1" },
      { path: "app/API_KEY", value: "key-canary-2" },
    ], "api_key"));
    expect(r.written).toEqual([{ path: "app/DB_URL", version: 2 }, { path: "app/API_KEY", version: 1 }]);
    expect((await api.get(s("app/DB_URL"))).body).toMatchObject({ value: "postgres://new-canary-1", version: 2, type: "password", metadata: { owner: "db" } });
    expect((await api.get(s("app/API_KEY"))).body).toMatchObject({ value: "key-canary-2", version: 1, type: "api_key", metadata: {} });
    const writes = await server.rt.db.auditEvent.findMany({ where: { orgId: owner.orgId, action: "secret.write", details: { contains: "app/" } } });
    expect(writes).toHaveLength(3);
    for (const e of writes) expect(e.details).not.toContain("canary");
  });

  it("the contract refuses duplicate paths, bad paths, too many entries and unknown fields (400s naming the field)", () => {
    expect(ZImportSecretsRequest.safeParse({ vault_id: vaultId, entries: [{ path: "a", value: "1" }, { path: "a", value: "2" }] }).success).toBe(false);
    expect(ZImportSecretsRequest.safeParse({ vault_id: vaultId, entries: [{ path: "bad path", value: "1" }] }).success).toBe(false);
    expect(ZImportSecretsRequest.safeParse({ vault_id: vaultId, entries: Array.from({ length: 501 }, (_, i) => ({ path: `k${i}`, value: "v" })) }).success).toBe(false);
    expect(ZImportSecretsRequest.safeParse({ vault_id: vaultId, entries: [{ path: "a", value: "1", extra: 1 }] }).success).toBe(false);
    expect(ZImportSecretsRequest.safeParse({ vault_id: vaultId, entries: [{ path: "a", value: "1" }] }).success).toBe(true);
  });

  it("writes nothing when any path is refused, and another org's vault is 404", async () => {
    const member = await addOrgUser(server, owner.orgId, "member");
    await api.post(`/v1/vaults/${vaultId}/policies`, { principal_type: "user", principal_id: member.userId, secret_path_pattern: "team/**", permissions: ["read", "write"] });
    const memberCtx = sessionCtx({ userId: member.userId, orgId: owner.orgId }, "member");
    expect(await statusOf(importSecrets(memberCtx, importInput([{ path: "team/A", value: "1" }, { path: "other/B", value: "2" }])))).toBe(403);
    expect((await api.get(s("team/A"))).status).toBe(404);
    // Positive control: paths inside the member's policy import.
    expect((await importSecrets(memberCtx, importInput([{ path: "team/A", value: "1" }]))).written).toEqual([{ path: "team/A", version: 1 }]);

    const stranger = await signUpVerified(server);
    expect(await statusOf(importSecrets(sessionCtx(stranger), importInput([{ path: "x/Y", value: "1" }])))).toBe(404);
    expect((await api.get(s("x/Y"))).status).toBe(404);
  });
});

describe("export", () => {
  it("exports a folder as .env (paths as names, env_bundle expanded) with one audited read each, values never in the audit log", async () => {
    await api.put(s("exp/DB_PASS"), { value: "p@ss word-canary-3", type: "password" });
    await api.put(s("exp/nested/token"), { value: "tok-canary-4" });
    await api.put(s("exp/bundle"), { value: "X=1\nY=two words", type: "env_bundle" });
    await api.put(s("exp/limited"), { value: "once-canary-5", max_access_count: 1 });
    await api.put(s("exp/old"), { value: "expired" });
    await server.rt.db.secretVersion.updateMany({ where: { secret: { vaultId, path: "exp/old" } }, data: { expiresAt: new Date(Date.now() - 1000) } });
    await api.put(s("elsewhere"), { value: "outside-canary-6" });
    const before = await server.rt.db.auditEvent.count({ where: { orgId: owner.orgId, action: "secret.read" } });

    const r = await exportSecrets(sessionCtx(owner), exportInput("exp/", "env"));
    expect(r.filename).toBe("transfer-test-exp.env");
    const vars = Object.fromEntries(parseDotenv(r.content).entries.map((e) => [e.key, e.value]));
    expect(vars).toEqual({ DB_PASS: "p@ss word-canary-3", nested_token: "tok-canary-4", X: "1", Y: "two words" });
    expect(r.exported.sort()).toEqual(["exp/DB_PASS", "exp/bundle", "exp/nested/token"]);
    expect(r.skipped.map((x) => x.path).sort()).toEqual(["exp/limited", "exp/old"]);
    expect(r.content).not.toContain("outside-canary-6");
    // The read-limited secret kept its one read.
    expect((await api.get(s("exp/limited"))).body.value).toBe("once-canary-5");

    const reads = await server.rt.db.auditEvent.findMany({ where: { orgId: owner.orgId, action: "secret.read" }, orderBy: { seq: "asc" }, skip: before });
    expect(reads.map((e) => (JSON.parse(e.details) as { path: string }).path).slice(0, 3).sort()).toEqual(["exp/DB_PASS", "exp/bundle", "exp/nested/token"]);
    const all = await server.rt.db.auditEvent.findMany({ where: { orgId: owner.orgId } });
    for (const e of all) expect(e.details).not.toMatch(/canary-[3-6]/);
  });

  it("exports JSON keyed by folder-relative path; a member gets only what a policy lets them read", async () => {
    const json = await exportSecrets(sessionCtx(owner), exportInput("exp/", "json"));
    expect(JSON.parse(json.content)).toMatchObject({ DB_PASS: "p@ss word-canary-3", "nested/token": "tok-canary-4", bundle: "X=1\nY=two words" });

    const member = await addOrgUser(server, owner.orgId, "member");
    await api.post(`/v1/vaults/${vaultId}/policies`, { principal_type: "user", principal_id: member.userId, secret_path_pattern: "exp/nested/*", permissions: ["read"] });
    const memberCtx = sessionCtx({ userId: member.userId, orgId: owner.orgId }, "member");
    const mine = await exportSecrets(memberCtx, exportInput("exp/", "json"));
    expect(JSON.parse(mine.content)).toEqual({ "nested/token": "tok-canary-4" });

    const stranger = await signUpVerified(server);
    expect(await statusOf(exportSecrets(sessionCtx(stranger), exportInput("exp/", "json")))).toBe(404);
    const noPolicy = await addOrgUser(server, owner.orgId, "member");
    expect(await statusOf(exportSecrets(sessionCtx({ userId: noPolicy.userId, orgId: owner.orgId }, "member"), exportInput("exp/", "env")))).toBe(403);
  });

  it("round-trips: a .env exported from one folder imports into another unchanged", async () => {
    const out = await exportSecrets(sessionCtx(owner), exportInput("exp/", "env"));
    const entries = parseDotenv(out.content).entries.map((e) => ({ path: `copy/${e.key}`, value: e.value }));
    await importSecrets(sessionCtx(owner), importInput(entries));
    expect((await api.get(s("copy/DB_PASS"))).body.value).toBe("p@ss word-canary-3");
    expect((await api.get(s("copy/Y"))).body.value).toBe("two words");
  });
});
