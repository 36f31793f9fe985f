import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { outboxTokenFor, signUpVerified, uniqueEmail } from "../helpers/accounts";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";

let server: TestServer;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  server = await startTestServer({ env: { TALON_RATE_LIMIT_AUTH_PER_MINUTE: "0" } });
  api = client(server.url);
});
afterAll(async () => {
  await server?.close();
});

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

async function login(acct: { email: string; password: string }) {
  const res = await api.post("/v1/auth/token", { email: acct.email, password: acct.password });
  expect(res.status).toBe(200);
  return res.body as { access_token: string; refresh_token: string; expires_in: number };
}

describe("refresh tokens", () => {
  it("rotates: a refresh gives a new pair, stored only as a hash, with a 30-day expiry", async () => {
    const acct = await signUpVerified(server);
    const first = await login(acct);
    const row = await server.rt.db.refreshToken.findUnique({ where: { tokenHash: sha256(first.refresh_token) } });
    expect(row).toMatchObject({ userId: acct.userId, usedAt: null, revokedAt: null });
    const days = (row!.expiresAt.getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);
    expect(await server.rt.db.refreshToken.count({ where: { tokenHash: first.refresh_token } })).toBe(0);

    const next = await api.post("/v1/auth/refresh", { refresh_token: first.refresh_token });
    expect(next.status).toBe(200);
    expect(next.body).toEqual({ access_token: expect.any(String), token_type: "Bearer", expires_in: 900, refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    expect(next.body.refresh_token).not.toBe(first.refresh_token);
    const me = await client(server.url, next.body.access_token).get("/v1/auth/me");
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(acct.userId);

    const successor = await server.rt.db.refreshToken.findUnique({ where: { tokenHash: sha256(next.body.refresh_token) } });
    expect(successor?.familyId).toBe(row!.familyId);
    expect((await server.rt.db.refreshToken.findUnique({ where: { id: row!.id } }))?.usedAt).toBeInstanceOf(Date);

    // The successor keeps rotating.
    const third = await api.post("/v1/auth/refresh", { refresh_token: next.body.refresh_token });
    expect(third.status).toBe(200);
    const audit = await server.rt.db.auditEvent.findMany({ where: { resourceId: acct.userId, action: "auth.success" } });
    expect(audit.filter((e) => JSON.parse(e.details).method === "refresh")).toHaveLength(2);
    expect(audit.map((e) => e.details).join()).not.toContain(first.refresh_token);
  });

  it("revokes the whole family when a used token comes back, and leaves other sessions alone", async () => {
    const acct = await signUpVerified(server);
    const stolen = await login(acct);
    const otherSession = await login(acct);
    const rotated = await api.post("/v1/auth/refresh", { refresh_token: stolen.refresh_token });
    expect(rotated.status).toBe(200);

    const reuse = await api.post("/v1/auth/refresh", { refresh_token: stolen.refresh_token });
    expect(reuse.status).toBe(401);
    expect(reuse.body.detail).toMatch(/refresh token/);
    // The legitimate successor is dead too: the family is gone.
    expect((await api.post("/v1/auth/refresh", { refresh_token: rotated.body.refresh_token })).status).toBe(401);
    const family = await server.rt.db.refreshToken.findMany({ where: { userId: acct.userId } });
    const familyId = family.find((r) => r.tokenHash === sha256(stolen.refresh_token))!.familyId;
    expect(family.filter((r) => r.familyId === familyId).every((r) => r.revokedAt !== null)).toBe(true);

    // Positive control: the user's other session (another family) still refreshes.
    expect((await api.post("/v1/auth/refresh", { refresh_token: otherSession.refresh_token })).status).toBe(200);

    const reuseEvents = await server.rt.db.auditEvent.findMany({ where: { resourceId: acct.userId, action: "auth.refresh_reuse" } });
    expect(reuseEvents.length).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(reuseEvents[0]!.details)).toEqual({ family_id: familyId, tokens_revoked: 2 });
    expect(reuseEvents[0]!.orgId).toBe(acct.orgId);
  });

  it("lets exactly one of two concurrent refreshes with the same token win", async () => {
    const acct = await signUpVerified(server);
    const session = await login(acct);
    const results = await Promise.all([1, 2].map(() => api.post("/v1/auth/refresh", { refresh_token: session.refresh_token })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
    expect(await server.rt.db.refreshToken.count({ where: { userId: acct.userId, usedAt: { not: null } } })).toBe(1);
  });

  it("refuses garbage, unknown, expired and oversized tokens", async () => {
    const acct = await signUpVerified(server);
    const session = await login(acct);
    expect((await api.post("/v1/auth/refresh", { refresh_token: "garbage" })).status).toBe(401);
    expect((await api.post("/v1/auth/refresh", { refresh_token: "A".repeat(43) })).status).toBe(401);
    expect((await api.post("/v1/auth/refresh", { refresh_token: "A".repeat(129) })).status).toBe(400);
    expect((await api.post("/v1/auth/refresh", {})).status).toBe(400);
    // An access token is not a refresh token.
    expect((await api.post("/v1/auth/refresh", { refresh_token: session.access_token.slice(0, 128) })).status).toBe(401);

    await server.rt.db.refreshToken.updateMany({ where: { tokenHash: sha256(session.refresh_token) }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const expired = await api.post("/v1/auth/refresh", { refresh_token: session.refresh_token });
    expect(expired.status).toBe(401);
    expect(expired.headers.get("www-authenticate")).toBe("Bearer");
  });

  it("hands out a working refresh token on email verification", async () => {
    const email = uniqueEmail("verify");
    expect((await api.post("/v1/auth/signup", { email, password: "correct horse battery" })).status).toBe(201);
    const verified = await api.post("/v1/auth/verify-email", { token: outboxTokenFor(server, email) });
    expect(verified.status).toBe(200);
    const next = await api.post("/v1/auth/refresh", { refresh_token: verified.body.refresh_token });
    expect(next.status).toBe(200);
    expect((await client(server.url, next.body.access_token).get("/v1/auth/me")).body.email).toBe(email);
  });
});
