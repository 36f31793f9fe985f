import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { approveApproval, getApproval } from "../../server/approvals/service";
import type { Ctx } from "../../server/http/principal";
import { passkeySignInOptions, passkeyStepUpOptions } from "../../server/identity/passkeys";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { addAgent, grant, NO_RATE_LIMITS } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * Passkey step-up on approvals (issue 14 item 3): an approver who has a passkey must confirm an
 * approval with a fresh assertion bound to a step-up challenge issued to them; the REST route, which
 * has no WebAuthn ceremony, sends them to the dashboard. (The full ceremony with a real authenticator
 * is in e2e/approvals.spec.ts.) A refused confirmation leaves the request pending.
 */
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: { ...NO_RATE_LIMITS, TALON_PUBLIC_URL: "https://vault.example.test" } });
});
afterAll(async () => {
  await server?.close();
});

const b64 = (s: string) => Buffer.from(s).toString("base64url");
const forged = (credentialId: string) => ({
  id: credentialId,
  rawId: credentialId,
  type: "public-key" as const,
  response: { clientDataJSON: b64("{}"), authenticatorData: b64("x"), signature: b64("y") },
});
const sessionCtx = (u: { userId: string; orgId: string }): Ctx => ({
  rt: server.rt,
  requestId: randomUUID(),
  ip: "127.0.0.1",
  principal: { kind: "user", userId: u.userId, orgId: u.orgId, role: "owner", via: "session", credentialId: randomUUID() },
});

/** An owner, a vault with a secret, and a pending approval request from a gated agent. */
async function pendingRequest() {
  const owner = await signUpVerified(server);
  const api = client(server.url, owner.token);
  const vault = (await api.post("/v1/vaults", { name: `step-up-${randomUUID().slice(0, 8)}` })).body.id as string;
  expect((await api.put(`/v1/vaults/${vault}/secrets/db/password`, { value: "step-up-canary" })).status).toBe(201);
  const agent = await addAgent(server, owner.token);
  await grant(api, vault, { principal_type: "agent", principal_id: agent.agentId, secret_path_pattern: "db/*", require_approval: true });
  const asked = await agent.api.get(`/v1/vaults/${vault}/secrets/db/password`);
  expect(asked.status).toBe(403);
  return { owner, api, agent, vault, id: asked.body.approval_request_id as string };
}

async function addPasskey(userId: string): Promise<string> {
  const credentialId = b64(`cred-${randomUUID()}`);
  await server.rt.db.webAuthnCredential.create({ data: { id: randomUUID(), userId, credentialId, publicKey: Buffer.from("not-a-real-key"), name: "laptop" } });
  return credentialId;
}

describe("approving with a passkey step-up", () => {
  it("an approver without a passkey approves as before, and is offered no step-up", async () => {
    const { owner, api, id } = await pendingRequest();
    expect(await passkeyStepUpOptions(sessionCtx(owner))).toBeNull();
    const approved = await api.post(`/v1/approvals/${id}/approve`, {});
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe("approved");
  });

  it("an approver with a passkey is sent to the dashboard by the REST route, and the request stays pending", async () => {
    const { owner, api, id } = await pendingRequest();
    await addPasskey(owner.userId);
    const refused = await api.post(`/v1/approvals/${id}/approve`, { duration_seconds: 3600 });
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toMatch(/passkey/);
    expect(refused.body.detail).toMatch(/Approvals page/);
    expect((await api.get(`/v1/approvals/${id}`)).body.status).toBe("pending");
    // Denying needs no step-up: it only takes access away.
    expect((await api.post(`/v1/approvals/${id}/deny`, {})).status).toBe(200);
  });

  it("a step-up challenge names only the approver's own passkeys and requires user verification", async () => {
    const { owner } = await pendingRequest();
    const mine = await addPasskey(owner.userId);
    const other = await signUpVerified(server);
    await addPasskey(other.userId);
    const challenge = await passkeyStepUpOptions(sessionCtx(owner));
    expect(challenge).not.toBeNull();
    expect(challenge!.options.userVerification).toBe("required");
    expect(challenge!.options.rpId).toBe("vault.example.test");
    expect(challenge!.options.allowCredentials?.map((c) => c.id)).toEqual([mine]);
  });

  it("a forged assertion, a used challenge, a sign-in challenge or another user's challenge cannot approve", async () => {
    const { owner, api, id } = await pendingRequest();
    const credentialId = await addPasskey(owner.userId);
    const ctx = sessionCtx(owner);

    const first = (await passkeyStepUpOptions(ctx))!;
    await expect(approveApproval(ctx, id, {}, { challenge_id: first.challenge_id, response: forged(credentialId) })).rejects.toMatchObject({
      status: 403,
      detail: expect.stringMatching(/did not confirm/),
    });
    // The challenge was spent by that attempt.
    await expect(approveApproval(ctx, id, {}, { challenge_id: first.challenge_id, response: forged(credentialId) })).rejects.toMatchObject({
      status: 403,
      detail: expect.stringMatching(/expired or was already used/),
    });
    // A sign-in challenge is not a step-up challenge.
    const signIn = await passkeySignInOptions({ rt: server.rt, requestId: randomUUID(), ip: "127.0.0.1" });
    await expect(approveApproval(ctx, id, {}, { challenge_id: signIn.challenge_id, response: forged(credentialId) })).rejects.toMatchObject({
      detail: expect.stringMatching(/expired or was already used/),
    });
    // Another user's step-up challenge is not the approver's.
    const other = await signUpVerified(server);
    await addPasskey(other.userId);
    const theirs = (await passkeyStepUpOptions(sessionCtx(other)))!;
    await expect(approveApproval(ctx, id, {}, { challenge_id: theirs.challenge_id, response: forged(credentialId) })).rejects.toMatchObject({
      detail: expect.stringMatching(/expired or was already used/),
    });
    // An expired one neither.
    const late = (await passkeyStepUpOptions(ctx))!;
    await server.rt.db.webAuthnChallenge.update({ where: { id: late.challenge_id }, data: { expiresAt: new Date(Date.now() - 1) } });
    await expect(approveApproval(ctx, id, {}, { challenge_id: late.challenge_id, response: forged(credentialId) })).rejects.toMatchObject({
      detail: expect.stringMatching(/expired or was already used/),
    });

    expect((await getApproval(ctx, id)).status).toBe("pending");
    expect((await api.get(`/v1/approvals/${id}`)).body.status).toBe("pending");
  });
});
