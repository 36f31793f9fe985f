import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { passkeyRegistrationOptions, passkeySignInOptions, registerPasskey, relyingParty, verifyPasskeySignIn } from "../../server/identity/passkeys";
import type { Ctx } from "../../server/http/principal";
import { signUpVerified } from "../helpers/accounts";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * Passkey challenges: single-use, expiring, bound to their purpose and user. (A full ceremony with a
 * real authenticator is in e2e/auth.spec.ts.)
 */
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: { TALON_PUBLIC_URL: "https://vault.example.test" } });
});
afterAll(async () => {
  await server?.close();
});

const pub = () => ({ rt: server.rt, requestId: randomUUID(), ip: "127.0.0.1" });
const b64 = (s: string) => Buffer.from(s).toString("base64url");
const assertion = (id = b64("unknown-credential")) => ({
  id,
  rawId: id,
  type: "public-key" as const,
  response: { clientDataJSON: b64("{}"), authenticatorData: b64("x"), signature: b64("y") },
});

describe("passkeys", () => {
  it("take the relying party from TALON_PUBLIC_URL", () => {
    expect(relyingParty(server.rt.config)).toEqual({ origin: "https://vault.example.test", rpID: "vault.example.test", rpName: "Talon" });
  });

  it("accept a sign-in challenge at most once", async () => {
    const { challenge_id, options } = await passkeySignInOptions(pub());
    expect(options.rpId).toBe("vault.example.test");
    expect(options.userVerification).toBe("required");
    await expect(verifyPasskeySignIn(pub(), { challenge_id, response: assertion() })).rejects.toMatchObject({ status: 401, detail: "That passkey could not sign you in" });
    await expect(verifyPasskeySignIn(pub(), { challenge_id, response: assertion() })).rejects.toMatchObject({ status: 401, detail: expect.stringMatching(/expired or was already used/) });
  });

  it("let exactly one of many concurrent attempts use a challenge", async () => {
    const { challenge_id } = await passkeySignInOptions(pub());
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => verifyPasskeySignIn(pub(), { challenge_id, response: assertion() })));
    const details = results.map((r) => (r.status === "rejected" ? (r.reason as { detail: string }).detail : "signed in"));
    // The one that took the challenge went on to check the (unknown) credential; all others found it gone.
    expect(details.filter((d) => d === "That passkey could not sign you in")).toHaveLength(1);
    expect(details.filter((d) => /expired or was already used/.test(d))).toHaveLength(19);
  });

  it("refuse an expired challenge, and one issued for another purpose or user", async () => {
    const expired = await passkeySignInOptions(pub());
    await server.rt.db.webAuthnChallenge.update({ where: { id: expired.challenge_id }, data: { expiresAt: new Date(Date.now() - 1) } });
    await expect(verifyPasskeySignIn(pub(), { challenge_id: expired.challenge_id, response: assertion() })).rejects.toMatchObject({ detail: expect.stringMatching(/expired/) });

    const a = await signUpVerified(server);
    const b = await signUpVerified(server);
    const ctxOf = (u: { userId: string; orgId: string }): Ctx => ({ ...pub(), principal: { kind: "user", userId: u.userId, orgId: u.orgId, role: "owner", via: "session", credentialId: randomUUID() } });
    const reg = await passkeyRegistrationOptions(ctxOf(a));
    expect(reg.options.authenticatorSelection).toMatchObject({ residentKey: "required", userVerification: "required" });
    const attestation = { id: b64("c"), rawId: b64("c"), type: "public-key" as const, response: { clientDataJSON: b64("{}"), attestationObject: b64("o") } };
    // B cannot use A's registration challenge, and a registration challenge cannot sign anyone in.
    await expect(registerPasskey(ctxOf(b), { challenge_id: reg.challenge_id, name: "x", response: attestation })).rejects.toMatchObject({ status: 400, detail: expect.stringMatching(/expired or was already used/) });
    await expect(verifyPasskeySignIn(pub(), { challenge_id: reg.challenge_id, response: assertion() })).rejects.toMatchObject({ status: 401, detail: expect.stringMatching(/expired/) });
    // A's own attempt with a forged attestation is refused and uses the challenge up.
    await expect(registerPasskey(ctxOf(a), { challenge_id: reg.challenge_id, name: "x", response: attestation })).rejects.toMatchObject({ status: 400, detail: "The passkey could not be verified" });
    expect(await server.rt.db.webAuthnCredential.count({ where: { userId: a.userId } })).toBe(0);
  });

  it("are not available to a personal API key", async () => {
    const a = await signUpVerified(server);
    const ctx: Ctx = { ...pub(), principal: { kind: "user", userId: a.userId, orgId: a.orgId, role: "owner", via: "api_key", credentialId: randomUUID() } };
    await expect(passkeyRegistrationOptions(ctx)).rejects.toMatchObject({ status: 403 });
  });
});
