import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";

let server: TestServer;
let api: ReturnType<typeof client>;
let vaultId: string;

beforeAll(async () => {
  server = await startTestServer();
  api = client(server.url, (await signUpVerified(server)).token);
  vaultId = (await api.post("/v1/vaults", { name: "race" })).body.id;
});
afterAll(async () => {
  await server?.close();
});

describe("max_access_count under concurrency", () => {
  it("lets exactly max_access_count of 50 concurrent reads through", async () => {
    const put = await api.put(`/v1/vaults/${vaultId}/secrets/one-time/token`, { value: "only-three-times", max_access_count: 3 });
    expect(put.status).toBe(201);

    const results = await Promise.all(Array.from({ length: 50 }, () => api.get(`/v1/vaults/${vaultId}/secrets/one-time/token`)));
    const ok = results.filter((r) => r.status === 200);
    const gone = results.filter((r) => r.status === 410);
    expect(ok).toHaveLength(3);
    expect(gone).toHaveLength(47);
    expect(ok.every((r) => r.body.value === "only-three-times")).toBe(true);
    expect(gone.every((r) => !r.text.includes("only-three-times"))).toBe(true);

    const version = await server.rt.db.secretVersion.findFirst({ where: { secretId: put.body.id, version: 1 } });
    expect(version!.accessCount).toBe(3);
    expect(await server.rt.db.auditEvent.count({ where: { action: "secret.read", resourceId: put.body.id } })).toBe(3);
  });

  it("never counts reads of an unlimited secret (no write on the hot path)", async () => {
    const put = await api.put(`/v1/vaults/${vaultId}/secrets/unlimited`, { value: "many" });
    const results = await Promise.all(Array.from({ length: 20 }, () => api.get(`/v1/vaults/${vaultId}/secrets/unlimited`)));
    expect(results.every((r) => r.status === 200 && r.body.value === "many")).toBe(true);
    const version = await server.rt.db.secretVersion.findFirst({ where: { secretId: put.body.id } });
    expect(version!.accessCount).toBe(0);
  });
});
