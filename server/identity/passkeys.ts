import { randomUUID } from "node:crypto";
import {
  type AuthenticationResponseJSON,
  type AuthenticatorTransport,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from "@simplewebauthn/server";
import type { z } from "zod";
import type { PasskeySummary, ZPasskeySignInInput, ZRegisterPasskeyInput } from "../../lib/contract/passkeys";
import { appendAudit } from "../audit/chain";
import { auditRow } from "../audit/writer";
import type { Config } from "../config";
import { ApiError } from "../http/errors";
import type { Ctx, PublicCtx, UserCtx } from "../http/principal";
import { isUniqueViolation } from "../secrets/repo";
import { requireSession } from "./mfa";
import { recordAnonymousFailure } from "./failures";

/**
 * Passkeys (WebAuthn) with SimpleWebAuthn: registration for a signed-in user, sign-in with a
 * discoverable credential. Challenges are rows in `WebAuthnChallenge`, valid for five minutes and
 * consumed by the one statement that deletes them, so a response can be verified at most once. The
 * relying party is Talon's public URL: its origin must match the browser's exactly and its host is
 * the RP ID. Sign-in requires user verification, so a passkey is a complete second factor and needs
 * no TOTP after it.
 */
const CHALLENGE_TTL_MS = 5 * 60_000;
const MAX_PASSKEYS_PER_USER = 20;
type Purpose = "register" | "sign_in" | "step_up";

export function relyingParty(config: Pick<Config, "publicUrl">) {
  const url = new URL(config.publicUrl);
  return { origin: url.origin, rpID: url.hostname, rpName: "Talon" };
}

async function storeChallenge(ctx: PublicCtx, purpose: Purpose, challenge: string, userId: string | null): Promise<string> {
  const id = randomUUID();
  const now = new Date();
  // Expired challenges go with the next one; the table stays as small as the traffic of five minutes.
  await ctx.rt.db.webAuthnChallenge.deleteMany({ where: { expiresAt: { lt: now } } });
  await ctx.rt.db.webAuthnChallenge.create({ data: { id, userId, purpose, challenge, expiresAt: new Date(now.getTime() + CHALLENGE_TTL_MS) } });
  return id;
}

/** The challenge, if it exists, is unexpired, has this purpose and user, and this call deleted it. */
async function takeChallenge(ctx: PublicCtx, id: string, purpose: Purpose, userId: string | null): Promise<string | null> {
  const row = await ctx.rt.db.webAuthnChallenge.findUnique({ where: { id } });
  if (!row || row.purpose !== purpose || row.userId !== userId) return null;
  const { count } = await ctx.rt.db.webAuthnChallenge.deleteMany({ where: { id, expiresAt: { gt: new Date() } } });
  return count === 1 ? row.challenge : null;
}

const transportsOf = (json: string): AuthenticatorTransport[] => {
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? (v.filter((t) => typeof t === "string") as AuthenticatorTransport[]) : [];
  } catch {
    return [];
  }
};

const summary = (c: { id: string; name: string; createdAt: Date; lastUsedAt: Date | null; transports: string }): PasskeySummary => ({
  id: c.id,
  name: c.name,
  created_at: c.createdAt.toISOString(),
  last_used_at: c.lastUsedAt?.toISOString() ?? null,
  transports: transportsOf(c.transports),
});

export async function passkeyRegistrationOptions(anyCtx: Ctx): Promise<{ challenge_id: string; options: PublicKeyCredentialCreationOptionsJSON }> {
  const ctx = requireSession(anyCtx);
  const user = await ctx.rt.db.user.findUnique({
    where: { id: ctx.principal.userId },
    select: { id: true, email: true, displayName: true, webauthnCredentials: { select: { credentialId: true, transports: true } } },
  });
  if (!user) throw ApiError.unauthorized();
  if (user.webauthnCredentials.length >= MAX_PASSKEYS_PER_USER) throw ApiError.conflict(`You already have ${MAX_PASSKEYS_PER_USER} passkeys; delete one first`);
  const rp = relyingParty(ctx.rt.config);
  const options = await generateRegistrationOptions({
    rpName: rp.rpName,
    rpID: rp.rpID,
    userName: user.email,
    userDisplayName: user.displayName || user.email,
    userID: new TextEncoder().encode(user.id),
    attestationType: "none",
    excludeCredentials: user.webauthnCredentials.map((c) => ({ id: c.credentialId, transports: transportsOf(c.transports) })),
    authenticatorSelection: { residentKey: "required", userVerification: "required" },
  });
  return { challenge_id: await storeChallenge(ctx, "register", options.challenge, user.id), options };
}

export async function registerPasskey(anyCtx: Ctx, input: z.output<typeof ZRegisterPasskeyInput>): Promise<PasskeySummary> {
  const ctx = requireSession(anyCtx);
  const userId = ctx.principal.userId;
  const expectedChallenge = await takeChallenge(ctx, input.challenge_id, "register", userId);
  if (!expectedChallenge) throw ApiError.badRequest("The passkey request expired or was already used; try again");
  const rp = relyingParty(ctx.rt.config);
  let verification: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
  try {
    verification = await verifyRegistrationResponse({
      response: input.response as unknown as RegistrationResponseJSON,
      expectedChallenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.rpID,
      requireUserVerification: true,
    });
  } catch {
    throw ApiError.badRequest("The passkey could not be verified");
  }
  if (!verification.verified) throw ApiError.badRequest("The passkey could not be verified");
  const { credential } = verification.registrationInfo;
  const id = randomUUID();
  try {
    const created = await ctx.rt.db.$transaction(async (tx) => {
      const row = await tx.webAuthnCredential.create({
        data: {
          id,
          userId,
          credentialId: credential.id,
          publicKey: Uint8Array.from(credential.publicKey),
          counter: credential.counter,
          transports: JSON.stringify(credential.transports ?? []),
          name: input.name,
        },
      });
      await appendAudit(tx, auditRow(ctx, { action: "auth.passkey_register", resourceType: "passkey", resourceId: id, details: { name: input.name } }));
      return row;
    });
    return summary(created);
  } catch (e) {
    if (isUniqueViolation(e)) throw ApiError.conflict("This passkey is already registered");
    throw e;
  }
}

export async function listPasskeys(anyCtx: Ctx): Promise<PasskeySummary[]> {
  const ctx = requireSession(anyCtx);
  const rows = await ctx.rt.db.webAuthnCredential.findMany({ where: { userId: ctx.principal.userId }, orderBy: { createdAt: "asc" } });
  return rows.map(summary);
}

export async function deletePasskey(anyCtx: Ctx, id: string): Promise<void> {
  const ctx = requireSession(anyCtx);
  await ctx.rt.db.$transaction(async (tx) => {
    const { count } = await tx.webAuthnCredential.deleteMany({ where: { id, userId: ctx.principal.userId } });
    if (count !== 1) throw ApiError.notFound("Passkey not found");
    await appendAudit(tx, auditRow(ctx, { action: "auth.passkey_delete", resourceType: "passkey", resourceId: id }));
  });
}

/** Options for a passkey sign-in: no user yet, so no allow list (the authenticator offers its discoverable credentials). */
export async function passkeySignInOptions(ctx: PublicCtx): Promise<{ challenge_id: string; options: PublicKeyCredentialRequestOptionsJSON }> {
  const options = await generateAuthenticationOptions({ rpID: relyingParty(ctx.rt.config).rpID, userVerification: "required" });
  return { challenge_id: await storeChallenge(ctx, "sign_in", options.challenge, null), options };
}

type StoredCredential = { id: string; credentialId: string; publicKey: Uint8Array; counter: number; transports: string };

/**
 * Checks an assertion against a stored credential (signature, origin, RP ID, user verification) and
 * returns the authenticator's new counter, or null when it does not verify.
 */
async function assertionCounter(ctx: PublicCtx, cred: StoredCredential, expectedChallenge: string, response: z.output<typeof ZPasskeySignInInput>["response"]): Promise<number | null> {
  const rp = relyingParty(ctx.rt.config);
  try {
    const v = await verifyAuthenticationResponse({
      response: response as unknown as AuthenticationResponseJSON,
      expectedChallenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.rpID,
      requireUserVerification: true,
      credential: { id: cred.credentialId, publicKey: Uint8Array.from(cred.publicKey), counter: cred.counter, transports: transportsOf(cred.transports) },
    });
    return v.verified ? v.authenticationInfo.newCounter : null;
  } catch {
    return null;
  }
}

/** A cloned authenticator shows up as a counter that does not move forward: the update then finds no row. */
async function advanceCounter(ctx: PublicCtx, cred: StoredCredential, newCounter: number): Promise<boolean> {
  const moved = await ctx.rt.db.webAuthnCredential.updateMany({ where: { id: cred.id, counter: cred.counter }, data: { counter: newCounter, lastUsedAt: new Date() } });
  return moved.count === 1;
}

/** Verifies a passkey assertion and returns its user. Failures are audited and answer one vague 401. */
export async function verifyPasskeySignIn(ctx: PublicCtx, input: z.output<typeof ZPasskeySignInInput>) {
  const fail = () => ApiError.unauthorized("That passkey could not sign you in");
  const expectedChallenge = await takeChallenge(ctx, input.challenge_id, "sign_in", null);
  if (!expectedChallenge) throw ApiError.unauthorized("The sign-in request expired or was already used; try again");
  const cred = await ctx.rt.db.webAuthnCredential.findUnique({
    where: { credentialId: input.response.id },
    include: { user: { select: { id: true, orgId: true, tokenVersion: true, emailVerifiedAt: true } } },
  });
  if (!cred) throw fail();
  const newCounter = await assertionCounter(ctx, cred, expectedChallenge, input.response);
  if (newCounter === null) {
    await recordAnonymousFailure(ctx, cred.user, { method: "passkey" });
    throw fail();
  }
  if (!cred.user.emailVerifiedAt) throw ApiError.forbidden("Email address not verified");
  if (!(await advanceCounter(ctx, cred, newCounter))) throw fail();
  return { id: cred.user.id, orgId: cred.user.orgId, tokenVersion: cred.user.tokenVersion };
}

/** Whether the signed-in user has registered a passkey (then sensitive decisions ask for it again). */
export async function userHasPasskey(ctx: UserCtx): Promise<boolean> {
  return (await ctx.rt.db.webAuthnCredential.count({ where: { userId: ctx.principal.userId } })) > 0;
}

/**
 * Options for a step-up: a fresh assertion by one of the signed-in user's own passkeys, with user
 * verification, before a sensitive decision (approving an access request). Null when the user has none.
 */
export async function passkeyStepUpOptions(anyCtx: Ctx): Promise<{ challenge_id: string; options: PublicKeyCredentialRequestOptionsJSON } | null> {
  const ctx = requireSession(anyCtx);
  const creds = await ctx.rt.db.webAuthnCredential.findMany({ where: { userId: ctx.principal.userId }, select: { credentialId: true, transports: true } });
  if (!creds.length) return null;
  const options = await generateAuthenticationOptions({
    rpID: relyingParty(ctx.rt.config).rpID,
    userVerification: "required",
    allowCredentials: creds.map((c) => ({ id: c.credentialId, transports: transportsOf(c.transports) })),
  });
  return { challenge_id: await storeChallenge(ctx, "step_up", options.challenge, ctx.principal.userId), options };
}

/**
 * Verifies a step-up assertion: the challenge was issued to this user for a step-up (single use), the
 * credential is this user's, the signature and user verification hold and the counter moves forward.
 * Any failure is one 403 that names what to do; nothing about the credential is revealed.
 */
export async function verifyPasskeyStepUp(ctx: UserCtx, input: z.output<typeof ZPasskeySignInInput>, what: string): Promise<void> {
  const fail = () => ApiError.forbidden(`Your passkey did not confirm ${what}; try again`);
  const expectedChallenge = await takeChallenge(ctx, input.challenge_id, "step_up", ctx.principal.userId);
  if (!expectedChallenge) throw ApiError.forbidden(`The passkey confirmation for ${what} expired or was already used; try again`);
  const cred = await ctx.rt.db.webAuthnCredential.findFirst({ where: { credentialId: input.response.id, userId: ctx.principal.userId } });
  if (!cred) throw fail();
  const newCounter = await assertionCounter(ctx, cred, expectedChallenge, input.response);
  if (newCounter === null || !(await advanceCounter(ctx, cred, newCounter))) throw fail();
}
