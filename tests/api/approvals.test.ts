import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueEmail, verificationTokenFrom } from "../helpers/accounts";
import { client, type TestResponse } from "../helpers/http";
import { addAgent, addOrgUser, grant, NO_RATE_LIMITS } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";
import { startSmtpServer, type TestSmtpServer } from "../helpers/smtp";
import { captureStderr, type StderrCapture } from "../helpers/stderr";

/**
 * Approvals and break-glass (issue 14 item 3) over real HTTP, with mail to a loopback SMTP server.
 * A canary value is planted; it must appear only in the answers of reads that were let through.
 */
const CANARY = `approval-canary-${randomUUID()}`;
let server: TestServer;
let smtp: TestSmtpServer;
let owner: ReturnType<typeof client>;
let ownerEmail: string;
let orgId: string;
let vault: string;
const responses: string[] = [];
let stderr: StderrCapture;
type Api = ReturnType<typeof client>;

/** Every answer is kept, to search for the canary at the end. */
function recorded(api: Api): Api {
  const wrap =
    <A extends unknown[]>(f: (...a: A) => Promise<TestResponse>) =>
    async (...a: A) => {
      const r = await f(...a);
      responses.push(r.text);
      return r;
    };
  return { ...api, get: wrap(api.get), post: wrap(api.post), put: wrap(api.put), delete: wrap(api.delete), patch: wrap(api.patch) };
}

async function signUp(): Promise<{ token: string; orgId: string; email: string }> {
  const email = uniqueEmail("approver");
  const api = client(server.url);
  expect((await api.post("/v1/auth/signup", { email, password: `pw-${randomUUID()}` })).status).toBe(201);
  const verified = await api.post("/v1/auth/verify-email", { token: verificationTokenFrom(await smtp.waitForMail(email)) });
  expect(verified.status).toBe(200);
  const token = verified.body.access_token as string;
  const me = await api.withToken(token).get("/v1/auth/me");
  await server.rt.db.org.update({ where: { id: me.body.org_id }, data: { tier: "enterprise" } });
  return { token, orgId: me.body.org_id, email };
}

const secretUrl = (path: string, v = vault) => `/v1/vaults/${v}/secrets/${path}`;

async function gatedAgent(pattern = "db/*", requireApproval: unknown = true) {
  const a = await addAgent(server, ownerToken);
  await grant(owner, vault, { principal_type: "agent", principal_id: a.agentId, secret_path_pattern: pattern, permissions: ["read", "write"], require_approval: requireApproval });
  return { ...a, api: recorded(a.api) };
}

let ownerToken: string;

beforeAll(async () => {
  stderr = captureStderr();
  smtp = await startSmtpServer();
  server = await startTestServer({ env: { ...NO_RATE_LIMITS, TALON_SMTP_URL: smtp.url, TALON_LOG_LEVEL: "debug" } });
  const acct = await signUp();
  ownerToken = acct.token;
  ownerEmail = acct.email;
  orgId = acct.orgId;
  owner = recorded(client(server.url, acct.token));
  vault = (await owner.post("/v1/vaults", { name: "payments" })).body.id;
  expect((await owner.put(secretUrl("db/password"), { value: CANARY })).status).toBe(201);
  expect((await owner.put(secretUrl("db/replica"), { value: CANARY })).status).toBe(201);
  expect((await owner.put(secretUrl("open/config"), { value: "not-gated-value" })).status).toBe(201);
}, 60_000);

afterAll(async () => {
  stderr.restore();
  await server?.close();
  await smtp?.close();
});

describe("require_approval on policies", () => {
  it("is stored normalised, returned, changed and cleared; a bad one is 400 naming the field", async () => {
    const { agentId } = await addAgent(server, ownerToken);
    const p = await grant(owner, vault, { principal_type: "agent", principal_id: agentId, require_approval: true });
    expect(p.require_approval).toEqual({ actions: ["read", "write", "use"], transaction_above_eth: null });
    const url = `/v1/vaults/${vault}/policies/${p.id}`;
    const changed = await owner.put(url, { require_approval: { actions: ["read"], transaction_above_eth: "0.5" } });
    expect(changed.status).toBe(200);
    expect(changed.body.require_approval).toEqual({ actions: ["read"], transaction_above_eth: "0.5" });
    const cleared = await owner.put(url, { require_approval: false });
    expect(cleared.body.require_approval).toBeUndefined();
    const bad = await owner.put(url, { require_approval: { actions: ["fly"] } });
    expect(bad.status).toBe(400);
    expect(bad.body.fields.map((f: { field: string }) => f.field)).toContain("require_approval");
    const unknown = await owner.put(url, { require_approval: { actions: ["read"], extra: 1 } });
    expect(unknown.status).toBe(400);
    await owner.delete(url);
  });
});

describe("an agent's gated read", () => {
  it("answers approval_required with an id, reuses the pending request, and mails the vault's owners", async () => {
    const agent = await gatedAgent();
    const first = await agent.api.get(secretUrl("db/password"), { "X-Approval-Reason": "rotate the nightly backup job" });
    expect(first.status).toBe(403);
    expect(first.headers.get("content-type")).toContain("application/problem+json");
    expect(first.body.type).toBe("approval_required");
    const id = first.body.approval_request_id as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.body.detail).toContain(id);
    expect(first.body.detail).toContain("human");
    const again = await agent.api.get(secretUrl("db/password"));
    expect(again.status).toBe(403);
    expect(again.body.approval_request_id).toBe(id);

    const polled = await agent.api.get(`/v1/approvals/${id}`);
    expect(polled.status).toBe(200);
    expect(polled.body).toMatchObject({ id, status: "pending", action: "read", resource: "db/password", principal_type: "agent", principal_id: agent.agentId, reason: "rotate the nightly backup job", vault_id: vault, vault_name: "payments", break_glass: false });

    const mail = await smtp.waitForMail(ownerEmail);
    const m = smtp.messages.find((x) => x.envelopeTo.includes(ownerEmail) && x.text.includes(id))!;
    expect(m.subject).toContain("approval");
    expect(m.text).toContain("db/password");
    expect(m.text).toContain("rotate the nightly backup job");
    expect(mail).toBeTruthy();

    const listed = await owner.get("/v1/approvals?status=pending");
    expect(listed.status).toBe(200);
    expect(listed.body.approvals.map((a: { id: string }) => a.id)).toContain(id);
  });

  it("a path not gated, and a human owner, read without approval", async () => {
    const agent = await gatedAgent("**", { actions: ["write"] });
    expect((await agent.api.get(secretUrl("open/config"))).status).toBe(200);
    expect((await owner.get(secretUrl("db/password"))).status).toBe(200);
    // write is gated for this agent
    const w = await agent.api.put(secretUrl("open/config"), { value: "new-value-long-enough" });
    expect(w.status).toBe(403);
    expect(w.body.type).toBe("approval_required");
  });

  it("a single-use approval lets the agent read exactly once; the requester cannot approve", async () => {
    const agent = await gatedAgent();
    const asked = await agent.api.get(secretUrl("db/password"));
    const id = asked.body.approval_request_id as string;
    const self = await agent.api.post(`/v1/approvals/${id}/approve`, {});
    expect(self.status).toBe(403);
    const approved = await owner.post(`/v1/approvals/${id}/approve`, { note: "ok for the backup" });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: "approved", uses_left: 1, grant_until: null, decision_note: "ok for the backup" });
    expect(approved.body.decided_by).toMatch(/^user:/);
    const twice = await owner.post(`/v1/approvals/${id}/approve`, {});
    expect(twice.status).toBe(409);

    const read = await agent.api.get(secretUrl("db/password"));
    expect(read.status).toBe(200);
    expect(read.body.value).toBe(CANARY);
    const polled = await agent.api.get(`/v1/approvals/${id}`);
    expect(polled.body).toMatchObject({ status: "used", uses_left: 0 });
    const after = await agent.api.get(secretUrl("db/password"));
    expect(after.status).toBe(403);
    expect(after.body.type).toBe("approval_required");
    expect(after.body.approval_request_id).not.toBe(id);
    // The approval is for db/password only: another gated path asks again.
    expect((await agent.api.get(secretUrl("db/replica"))).body.type).toBe("approval_required");
  });

  it("a window approval lets the agent read until it ends", async () => {
    const agent = await gatedAgent();
    const id = (await agent.api.get(secretUrl("db/password"))).body.approval_request_id as string;
    const approved = await owner.post(`/v1/approvals/${id}/approve`, { duration_seconds: 3600 });
    expect(approved.status).toBe(200);
    expect(approved.body.uses_left).toBeNull();
    expect(Date.parse(approved.body.grant_until) - Date.now()).toBeGreaterThan(3500_000);
    for (let i = 0; i < 3; i++) expect((await agent.api.get(secretUrl("db/password"))).status).toBe(200);
    await server.rt.db.approvalRequest.update({ where: { id }, data: { grantUntil: new Date(Date.now() - 1000), expiresAt: new Date(Date.now() - 1000) } });
    const ended = await agent.api.get(secretUrl("db/password"));
    expect(ended.body.type).toBe("approval_required");
    expect((await agent.api.get(`/v1/approvals/${id}`)).body.status).toBe("expired");
    expect((await owner.post(`/v1/approvals/${id}/approve`, { duration_seconds: 59 })).status).toBe(400);
  });

  it("a denial is final for that request; the agent sees it and a retry asks again", async () => {
    const agent = await gatedAgent();
    const id = (await agent.api.get(secretUrl("db/password"))).body.approval_request_id as string;
    const denied = await owner.post(`/v1/approvals/${id}/deny`, { note: "not during the freeze" });
    expect(denied.status).toBe(200);
    expect(denied.body).toMatchObject({ status: "denied", decision_note: "not during the freeze" });
    expect((await owner.post(`/v1/approvals/${id}/approve`, {})).status).toBe(409);
    expect((await agent.api.get(`/v1/approvals/${id}`)).body.status).toBe("denied");
    const retry = await agent.api.get(secretUrl("db/password"));
    expect(retry.status).toBe(403);
    expect(retry.body.approval_request_id).not.toBe(id);
  });

  it("a pending request expires and can no longer be approved", async () => {
    const agent = await gatedAgent();
    const id = (await agent.api.get(secretUrl("db/password"))).body.approval_request_id as string;
    await server.rt.db.approvalRequest.update({ where: { id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await owner.get(`/v1/approvals/${id}`)).body.status).toBe("expired");
    expect((await owner.get("/v1/approvals?status=expired")).body.approvals.map((a: { id: string }) => a.id)).toContain(id);
    expect((await owner.get("/v1/approvals?status=pending")).body.approvals.map((a: { id: string }) => a.id)).not.toContain(id);
    const late = await owner.post(`/v1/approvals/${id}/approve`, {});
    expect(late.status).toBe(409);
    expect(late.body.detail).toContain("expired");
    const fresh = await agent.api.get(secretUrl("db/password"));
    expect(fresh.body.approval_request_id).not.toBe(id);
  });

  it("an overlong reason is 400; the reason is never in the audit log", async () => {
    const agent = await gatedAgent();
    const long = await agent.api.get(secretUrl("db/password"), { "X-Approval-Reason": "x".repeat(501) });
    expect(long.status).toBe(400);
    expect(long.body.detail).toContain("X-Approval-Reason");
  });
});

describe("who sees and decides", () => {
  it("members see only their vaults' requests; other agents and other orgs get 404; an admin decides", async () => {
    const agent = await gatedAgent();
    const id = (await agent.api.get(secretUrl("db/password"))).body.approval_request_id as string;
    const member = await addOrgUser(server, orgId, "member");
    expect((await member.api.get(`/v1/approvals/${id}`)).status).toBe(404);
    expect((await member.api.post(`/v1/approvals/${id}/approve`, {})).status).toBe(404);
    const otherAgent = await addAgent(server, ownerToken);
    expect((await otherAgent.api.get(`/v1/approvals/${id}`)).status).toBe(404);
    const other = await signUp();
    const stranger = recorded(client(server.url, other.token));
    expect((await stranger.get(`/v1/approvals/${id}`)).status).toBe(404);
    expect((await stranger.post(`/v1/approvals/${id}/approve`, {})).status).toBe(404);
    expect((await stranger.post(`/v1/approvals/${id}/deny`, {})).status).toBe(404);
    expect((await stranger.get("/v1/approvals")).body.approvals).toEqual([]);
    const admin = await addOrgUser(server, orgId, "admin");
    const approved = await recorded(admin.api).post(`/v1/approvals/${id}/approve`, {});
    expect(approved.status).toBe(200);
    expect((await agent.api.get(secretUrl("db/password"))).status).toBe(200);
  });

  it("a gated member cannot approve their own request; an owner can", async () => {
    const member = await addOrgUser(server, orgId, "member");
    await grant(owner, vault, { principal_type: "user", principal_id: member.userId, secret_path_pattern: "db/**", require_approval: { actions: ["read"] } });
    const api = recorded(member.api);
    const asked = await api.get(secretUrl("db/replica"));
    expect(asked.body.type).toBe("approval_required");
    const id = asked.body.approval_request_id as string;
    expect((await api.get(`/v1/approvals/${id}`)).status).toBe(200);
    const self = await api.post(`/v1/approvals/${id}/approve`, {});
    expect(self.status).toBe(403);
    expect(self.body.detail).toContain("your own");
    expect((await owner.post(`/v1/approvals/${id}/approve`, {})).status).toBe(200);
    expect((await api.get(secretUrl("db/replica"))).body.value).toBe(CANARY);
  });
});

describe("break-glass", () => {
  it("an admin denied by a policy opens a time-boxed window with a reason; audited loudly and mailed to the owners", async () => {
    const admin = await addOrgUser(server, orgId, "admin");
    const api = recorded(admin.api);
    await grant(owner, vault, { principal_type: "user", principal_id: admin.userId, effect: "deny", secret_path_pattern: "**", permissions: ["read"] });
    expect((await api.get(secretUrl("db/password"))).status).toBe(403);
    const short = await api.post(`/v1/vaults/${vault}/break-glass`, { reason: "need it" });
    expect(short.status).toBe(400);
    expect((await api.post(`/v1/vaults/${vault}/break-glass`, { reason: "production outage INC-42, primary database down", duration_seconds: 5 * 3600 })).status).toBe(400);
    const member = await addOrgUser(server, orgId, "member");
    expect((await recorded(member.api).post(`/v1/vaults/${vault}/break-glass`, { reason: "production outage INC-42, primary database down" })).status).toBe(403);
    const other = await signUp();
    expect((await recorded(client(server.url, other.token)).post(`/v1/vaults/${vault}/break-glass`, { reason: "production outage INC-42, primary database down" })).status).toBe(404);

    const opened = await api.post(`/v1/vaults/${vault}/break-glass`, { reason: "production outage INC-42, primary database down", duration_seconds: 1800 });
    expect(opened.status).toBe(201);
    expect(opened.body).toMatchObject({ break_glass: true, status: "approved", action: "break_glass", vault_id: vault, principal_id: admin.userId });
    const read = await api.get(secretUrl("db/password"));
    expect(read.status).toBe(200);
    expect(read.body.value).toBe(CANARY);
    expect((await owner.post(`/v1/approvals/${opened.body.id}/approve`, {})).status).toBe(409);

    const mail = await smtp.waitForMail(ownerEmail);
    expect(mail).toBeTruthy();
    const glassMail = smtp.messages.find((x) => x.envelopeTo.includes(ownerEmail) && x.subject.includes("break-glass"));
    expect(glassMail?.text).toContain("INC-42");

    const audit = await owner.get("/v1/audit/events?action=break_glass.used");
    expect(audit.body.events?.length ?? audit.body.data?.length).toBeGreaterThan(0);
    const accesses = await server.rt.db.auditEvent.findMany({ where: { orgId, action: "break_glass.access" } });
    expect(accesses.length).toBeGreaterThan(0);
    expect((await owner.get("/v1/approvals?break_glass=true")).body.approvals.map((a: { id: string }) => a.id)).toContain(opened.body.id);

    await server.rt.db.approvalRequest.update({ where: { id: opened.body.id }, data: { grantUntil: new Date(Date.now() - 1000) } });
    expect((await api.get(secretUrl("db/password"))).status).toBe(403);
  });
});

describe("canary", () => {
  it("the value appears only in the reads that were let through: never in refusals, approvals, audit, mail or logs", async () => {
    await new Promise((r) => setTimeout(r, 300));
    const leaks = responses.filter((t) => t.includes(CANARY) && !t.includes('"value"'));
    expect(leaks).toEqual([]);
    const audit = await server.rt.db.auditEvent.findMany({ where: { orgId } });
    expect(audit.some((e) => e.action === "approval.requested")).toBe(true);
    expect(audit.some((e) => e.action === "approval.approved")).toBe(true);
    expect(audit.some((e) => e.action === "approval.denied")).toBe(true);
    expect(JSON.stringify(audit)).not.toContain(CANARY);
    expect(JSON.stringify(audit)).not.toContain("rotate the nightly backup job");
    expect(smtp.messages.some((m) => m.raw.includes(CANARY))).toBe(false);
    expect(stderr.text()).toContain('"msg"'); // the capture saw the server's log lines
    expect(stderr.text()).not.toContain(CANARY);
    const rows = await server.rt.db.approvalRequest.findMany({ where: { orgId } });
    expect(JSON.stringify(rows)).not.toContain(CANARY);
  });
});
