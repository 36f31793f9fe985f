import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { NO_RATE_LIMITS } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";

/** GET /v1/audit/events?path= (the audit page's path filter): events naming a secret path under a prefix, `_` taken literally. */
let server: TestServer;
let api: ReturnType<typeof client>;
let vaultId: string;

beforeAll(async () => {
  server = await startTestServer({ env: NO_RATE_LIMITS });
  api = client(server.url, (await signUpVerified(server)).token);
  vaultId = (await api.post("/v1/vaults", { name: "audit-path" })).body.id;
  for (const p of ["a_b/one", "axb/two", "a_b", "db/main"]) expect((await api.put(`/v1/vaults/${vaultId}/secrets/${p}`, { value: "x" })).status).toBe(201);
  await api.get(`/v1/vaults/${vaultId}/secrets/a_b/one`);
});
afterAll(async () => {
  await server?.close();
});

const paths = async (q: string) => {
  const r = await api.get(`/v1/audit/events?${q}`);
  expect(r.status).toBe(200);
  return (r.body.events as { action: string; details: { path: string } }[]).map((e) => `${e.action}:${e.details.path}`).sort();
};

describe("audit path filter", () => {
  it("matches a folder prefix or an exact path, with `_` literal, combined with other filters", async () => {
    expect(await paths("path=a_b/")).toEqual(["secret.read:a_b/one", "secret.write:a_b/one"]);
    expect(await paths("path=a_b")).toEqual(["secret.read:a_b/one", "secret.write:a_b", "secret.write:a_b/one"]);
    expect(await paths("path=a_b/&action=secret.read")).toEqual(["secret.read:a_b/one"]);
    expect(await paths("path=nothing/")).toEqual([]);
    // Positive control for the prefix: the other folder is found under its own name.
    expect(await paths("path=axb/")).toEqual(["secret.write:axb/two"]);
  });

  it("refuses a path filter with other characters (400 naming it)", async () => {
    const r = await api.get(`/v1/audit/events?path=${encodeURIComponent('a"b')}`);
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body.fields)).toContain("path");
  });
});
