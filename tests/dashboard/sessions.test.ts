import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listSessions, mintTicket, redeemTicket, resolveSession, revokeOwnSession, revokeSession } from "../../server/dashboard/sessions";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * Dashboard sessions: the cookie names a row, and the row decides. Tickets are single-use and short;
 * sign-out, a password change and another user's attempts behave as a user of a secrets manager
 * expects. (The browser side is covered in e2e/auth.spec.ts.)
 */
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

const pub = () => ({ rt: server.rt, requestId: randomUUID(), ip: "127.0.0.1" });

describe("sign-in tickets", () => {
  it("open exactly one session, even when redeemed concurrently, and never again", async () => {
    const u = await signUpVerified(server);
    const ticket = await mintTicket(server.rt, u.userId, "password");
    const results = await Promise.all(Array.from({ length: 10 }, () => redeemTicket(pub(), ticket, "test-agent")));
    const opened = results.filter((r) => r !== null);
    expect(opened).toHaveLength(1);
    expect(await redeemTicket(pub(), ticket, "test-agent")).toBeNull();
    const principal = await resolveSession(server.rt, opened[0]!);
    expect(principal).toMatchObject({ kind: "user", userId: u.userId, orgId: u.orgId, via: "session" });
    // The ticket itself is stored only as a hash.
    const rows = await server.rt.db.emailToken.findMany({ where: { userId: u.userId } });
    expect(JSON.stringify(rows)).not.toContain(ticket);
  });

  it("expire after a minute and reject anything that is not a ticket", async () => {
    const u = await signUpVerified(server);
    const ticket = await mintTicket(server.rt, u.userId, "password");
    await server.rt.db.emailToken.updateMany({ where: { userId: u.userId, purpose: { startsWith: "signin_ticket:" } }, data: { expiresAt: new Date(Date.now() - 1) } });
    expect(await redeemTicket(pub(), ticket, "")).toBeNull();
    expect(await redeemTicket(pub(), "", "")).toBeNull();
    expect(await redeemTicket(pub(), "x".repeat(500), "")).toBeNull();
  });

  it("records the sign-in in the audit log without the ticket", async () => {
    const u = await signUpVerified(server);
    const ticket = await mintTicket(server.rt, u.userId, "passkey");
    expect(await redeemTicket(pub(), ticket, "ua")).not.toBeNull();
    await server.rt.audit.drain();
    const events = await server.rt.db.auditEvent.findMany({ where: { orgId: u.orgId, action: "auth.success" } });
    const dashboard = events.filter((e) => JSON.parse(e.details).via === "dashboard");
    expect(dashboard.map((e) => JSON.parse(e.details).method)).toEqual(["passkey"]);
    expect(JSON.stringify(events)).not.toContain(ticket);
  });
});

describe("sessions", () => {
  async function session(userId: string) {
    return (await redeemTicket(pub(), await mintTicket(server.rt, userId, "password"), "ua"))!;
  }

  it("end at sign-out; the user's other sessions live on", async () => {
    const u = await signUpVerified(server);
    const [a, b] = [await session(u.userId), await session(u.userId)];
    await revokeSession(server.rt, a);
    expect(await resolveSession(server.rt, a)).toBeNull();
    expect(await resolveSession(server.rt, b)).not.toBeNull();
  });

  it("all end when the password changes", async () => {
    const u = await signUpVerified(server);
    const s = await session(u.userId);
    const changed = await client(server.url, u.token).post("/v1/auth/change-password", { current_password: u.password, new_password: "a brand new password" });
    expect(changed.status).toBe(204);
    expect(await resolveSession(server.rt, s)).toBeNull();
  });

  it("end when they expire, and unknown ids resolve to nobody", async () => {
    const u = await signUpVerified(server);
    const s = await session(u.userId);
    await server.rt.db.userSession.update({ where: { id: s }, data: { expiresAt: new Date(Date.now() - 1) } });
    expect(await resolveSession(server.rt, s)).toBeNull();
    expect(await resolveSession(server.rt, randomUUID())).toBeNull();
  });

  it("are listed to their owner only, who can end one; another user's session is 404", async () => {
    const u = await signUpVerified(server);
    const other = await signUpVerified(server);
    const mine = await session(u.userId);
    const theirs = await session(other.userId);
    const me = (await resolveSession(server.rt, mine))!;
    const listed = await listSessions(server.rt, me);
    expect(listed.map((s) => s.id)).toEqual([mine]);
    expect(listed[0]!.current).toBe(true);
    await expect(revokeOwnSession(server.rt, me, theirs)).rejects.toMatchObject({ status: 404 });
    expect(await resolveSession(server.rt, theirs)).not.toBeNull();
  });
});
