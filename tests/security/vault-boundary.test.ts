import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * The org boundary on vaults and secrets: a user of another org gets exactly what a caller gets for a
 * vault that does not exist (404, same detail), on every route; the owner's positive control proves
 * the same requests succeed for the right caller.
 */
let server: TestServer;
let owner: ReturnType<typeof client>;
let outsider: ReturnType<typeof client>;
let vaultId: string;
const MISSING = "00000000-0000-4000-8000-000000000000";

const routes = (vault: string) =>
  [
    ["GET", `/v1/vaults/${vault}`, undefined],
    ["GET", `/v1/vaults/${vault}/secrets`, undefined],
    ["GET", `/v1/vaults/${vault}/secrets/team/db-password`, undefined],
    ["GET", `/v1/vaults/${vault}/secret-versions/team/db-password`, undefined],
    ["GET", `/v1/vaults/${vault}/secret-version/team/db-password/1`, undefined],
    ["PUT", `/v1/vaults/${vault}/secrets/team/db-password`, { value: "overwritten-by-outsider" }],
    ["PUT", `/v1/vaults/${vault}/secrets/team/new-path`, { value: "planted-by-outsider" }],
    ["POST", `/v1/vaults/${vault}/secret-rotate/team/db-password`, {}],
    ["POST", `/v1/vaults/${vault}/secret-version-disable/team/db-password/1`, {}],
    ["DELETE", `/v1/vaults/${vault}/secrets/team/db-password`, undefined],
    ["DELETE", `/v1/vaults/${vault}`, undefined],
  ] as const;

beforeAll(async () => {
  server = await startTestServer();
  owner = client(server.url, (await signUpVerified(server)).token);
  outsider = client(server.url, (await signUpVerified(server)).token);
  vaultId = (await owner.post("/v1/vaults", { name: "team" })).body.id;
  expect((await owner.put(`/v1/vaults/${vaultId}/secrets/team/db-password`, { value: "owner-only-value" })).status).toBe(201);
});
afterAll(async () => {
  await server?.close();
});

describe("vault org boundary", () => {
  it("answers another org's user 404 on every vault and secret route, indistinguishable from a missing vault", async () => {
    for (const [method, url, body] of routes(vaultId)) {
      const res = await outsider.call(method, url, body);
      const missing = await outsider.call(method, url.replace(vaultId, MISSING), body);
      expect(res.status, `${method} ${url}`).toBe(404);
      expect(res.body.detail, `${method} ${url}`).toBe(missing.body.detail);
      expect(res.text).not.toContain("owner-only-value");
      expect(res.text).not.toContain("team");
    }
    const list = await outsider.get("/v1/vaults");
    expect(list.status).toBe(200);
    expect(list.body.vaults).toEqual([]);
    // The outsider's own vault may share the name: names are unique per org only.
    expect((await outsider.post("/v1/vaults", { name: "team" })).status).toBe(201);
  });

  it("positive control: the owner can still do all of it, and nothing the outsider sent took effect", async () => {
    const get = await owner.get(`/v1/vaults/${vaultId}/secrets/team/db-password`);
    expect(get.status).toBe(200);
    expect(get.body).toMatchObject({ value: "owner-only-value", version: 1 });
    expect((await owner.get(`/v1/vaults/${vaultId}/secrets/team/new-path`)).status).toBe(404);
    expect((await owner.get(`/v1/vaults/${vaultId}/secret-versions/team/db-password`)).body.versions).toHaveLength(1);

    const expected = [200, 200, 200, 200, 200, 201, 201, 201, 204, 204, 204];
    const statuses: number[] = [];
    for (const [method, url, body] of routes(vaultId)) statuses.push((await owner.call(method, url, body)).status);
    expect(statuses).toEqual(expected);
  });
});
