import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * Signing out (DELETE /v1/auth/token) ends the whole session: the access token and the refresh-token
 * family issued with it — including successors of that refresh token — while another sign-in of the
 * same user goes on.
 */
let server: TestServer;
let account: Awaited<ReturnType<typeof signUpVerified>>;

beforeAll(async () => {
  server = await startTestServer();
  account = await signUpVerified(server);
});
afterAll(async () => {
  await server?.close();
});

async function login(): Promise<{ access_token: string; refresh_token: string }> {
  const res = await client(server.url).post("/v1/auth/token", { email: account.email, password: account.password });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.text}`);
  return res.body;
}
const refresh = (token: string) => client(server.url).post("/v1/auth/refresh", { refresh_token: token });
const logout = (access: string) => client(server.url, access).delete("/v1/auth/token");

describe("logout ends the session's refresh family", () => {
  it("after logout the same login's refresh token is refused; another login's still works", async () => {
    const mine = await login();
    const other = await login();
    expect((await logout(mine.access_token)).status).toBe(204);

    expect((await client(server.url, mine.access_token).get("/v1/auth/me")).status).toBe(401);
    const refused = await refresh(mine.refresh_token);
    expect(refused.status).toBe(401);

    // Positive control: the other session of the same user is untouched, and keeps rotating.
    const rotated = await refresh(other.refresh_token);
    expect(rotated.status).toBe(200);
    expect((await client(server.url, rotated.body.access_token).get("/v1/auth/me")).status).toBe(200);
    expect((await refresh(rotated.body.refresh_token)).status).toBe(200);
  });

  it("logging out with a refreshed access token ends that family too (its latest refresh token included)", async () => {
    const first = await login();
    const second = await refresh(first.refresh_token);
    expect(second.status).toBe(200);
    expect(decodeJwt(second.body.access_token).rfam).toBe(decodeJwt(first.access_token).rfam);
    expect((await logout(second.body.access_token)).status).toBe(204);
    expect((await refresh(second.body.refresh_token)).status).toBe(401);
  });

  it("the family is recorded in the audit event of the logout", async () => {
    const s = await login();
    expect((await logout(s.access_token)).status).toBe(204);
    const family = decodeJwt(s.access_token).rfam as string;
    const rows = await server.rt.db.refreshToken.findMany({ where: { familyId: family } });
    expect(rows.length).toBe(1);
    expect(rows.every((r) => r.revokedAt !== null)).toBe(true);
    const events = await server.rt.db.auditEvent.findMany({ where: { action: "auth.token_revoke", resourceId: account.userId } });
    expect(events.some((e) => JSON.stringify(e.details).includes(family))).toBe(true);
  });

  it("a refresh token from another user's family is not touched by this user's logout", async () => {
    const someoneElse = await signUpVerified(server);
    const theirs = await client(server.url).post("/v1/auth/token", { email: someoneElse.email, password: someoneElse.password });
    const mine = await login();
    expect((await logout(mine.access_token)).status).toBe(204);
    expect((await refresh(theirs.body.refresh_token)).status).toBe(200);
  });
});
