import { randomBytes, randomUUID } from "node:crypto";
import type { LoginResponse, MfaSetupResponse, MfaStatusResponse, TokenResponse } from "../../lib/contract/auth";
import { hit, release } from "../abuse/counters";
import { auditRow } from "../audit/writer";
import { appendAudit } from "../audit/chain";
import { sha256 } from "../crypto/digest";
import { encodeAad } from "../crypto/envelope";
import { ApiError } from "../http/errors";
import { type Ctx, type PublicCtx, requireInteractiveUser, requireUser, type UserCtx } from "../http/principal";
import type { Keystore } from "../keystore/types";
import type { Runtime } from "../runtime";
import { recordAnonymousFailure } from "./failures";
import { issueSession } from "./refresh";
import { base32Encode, matchTotp, newTotpSecret, otpauthUri } from "./totp";

/**
 * TOTP second factor. The secret is sealed by the keystore (AES-GCM under the master key, associated
 * data naming the user) and stored as `[4-byte master-key version][wrapped]`; only the code's time
 * step is ever compared in the database, through one conditional update, so no code works twice.
 */
const RECOVERY_CODES = 10;
const MFA_FAILURE_WINDOW_MS = 15 * 60 * 1000;

const mfaAad = (userId: string) => encodeAad("talon:mfa", [userId]);
const mfaFailureKey = (userId: string) => `mfa:user:${userId}`;
const normaliseRecoveryCode = (code: string) => code.toUpperCase().replace(/[\s-]/g, "");
const recoveryHash = (code: string) => sha256(normaliseRecoveryCode(code), "hex");
const invalidCode = () => ApiError.badRequest("The code is invalid or was already used", [{ field: "code", message: "invalid or already used" }]);
const userActor = (u: { id: string; orgId: string }) => ({ orgId: u.orgId, actorId: `user:${u.id}`, actorType: "user" as const });

async function sealUnder(keystore: Keystore, userId: string, secret: Buffer, version: number): Promise<Uint8Array<ArrayBuffer>> {
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(version);
  return Uint8Array.from(Buffer.concat([prefix, await keystore.wrap(secret, mfaAad(userId), version)]));
}

const sealSecret = async (rt: Runtime, userId: string, secret: Buffer) => sealUnder(rt.keystore, userId, secret, await rt.vaultKeys.currentMasterKeyVersion());

async function openSecret(keystore: Keystore, userId: string, sealed: Uint8Array): Promise<Buffer> {
  const b = Buffer.from(sealed);
  return keystore.unwrap(b.subarray(4), mfaAad(userId), b.readUInt32BE(0));
}

/** Step-up actions (MFA on/off, passkeys) need a signed-in session: a personal API key must not lock its owner out. */
export function requireSession(anyCtx: Ctx): UserCtx {
  return requireInteractiveUser(anyCtx, "Changing MFA or passkeys");
}

export async function setupMfa(anyCtx: Ctx): Promise<MfaSetupResponse> {
  const ctx = requireSession(anyCtx);
  const user = await ctx.rt.db.user.findUnique({ where: { id: ctx.principal.userId }, select: { email: true, mfaEnabled: true } });
  if (!user) throw ApiError.unauthorized();
  if (user.mfaEnabled) throw ApiError.conflict("MFA is already enabled; disable it first to enrol a new authenticator");
  const secret = newTotpSecret();
  const sealed = await sealSecret(ctx.rt, ctx.principal.userId, secret);
  await ctx.rt.db.user.update({ where: { id: ctx.principal.userId }, data: { mfaPendingSecret: sealed } });
  const b32 = base32Encode(secret);
  return { otpauth_uri: otpauthUri(b32, user.email), secret: b32 };
}

/** Confirms enrolment with a first code; returns the recovery codes (shown once, stored hashed). */
export async function verifyMfaSetup(anyCtx: Ctx, code: string): Promise<{ recovery_codes: string[] }> {
  const ctx = requireSession(anyCtx);
  const { userId } = ctx.principal;
  const user = await ctx.rt.db.user.findUnique({ where: { id: userId }, select: { mfaEnabled: true, mfaPendingSecret: true } });
  if (!user) throw ApiError.unauthorized();
  if (user.mfaEnabled) throw ApiError.conflict("MFA is already enabled");
  if (!user.mfaPendingSecret) throw ApiError.conflict("No MFA enrolment in progress; start with POST /v1/auth/mfa/setup");
  const step = matchTotp(await openSecret(ctx.rt.keystore, userId, user.mfaPendingSecret), code);
  if (step === null) throw invalidCode();

  const codes = Array.from({ length: RECOVERY_CODES }, () => base32Encode(randomBytes(10)).match(/.{4}/g)!.join("-"));
  const pending = Buffer.from(user.mfaPendingSecret);
  await ctx.rt.db.$transaction(async (tx) => {
    // Conditional on the very secret the code was checked against: a concurrent setup wins nothing.
    const { count } = await tx.user.updateMany({
      where: { id: userId, mfaEnabled: false, mfaPendingSecret: { equals: pending }, mfaLastStep: { lt: step } },
      data: { mfaEnabled: true, mfaSecret: pending, mfaPendingSecret: null, mfaLastStep: step },
    });
    if (count === 0) throw invalidCode();
    await tx.recoveryCode.deleteMany({ where: { userId } });
    await tx.recoveryCode.createMany({ data: codes.map((c) => ({ id: randomUUID(), userId, codeHash: recoveryHash(c) })) });
    await appendAudit(tx, auditRow(ctx, { action: "auth.mfa_enable", resourceType: "user", resourceId: userId }));
  });
  return { recovery_codes: codes };
}

export async function mfaStatus(anyCtx: Ctx): Promise<MfaStatusResponse> {
  const ctx = requireUser(anyCtx);
  const { userId } = ctx.principal;
  const [user, remaining] = await Promise.all([
    ctx.rt.db.user.findUnique({ where: { id: userId }, select: { mfaEnabled: true } }),
    ctx.rt.db.recoveryCode.count({ where: { userId, usedAt: null } }),
  ]);
  if (!user) throw ApiError.unauthorized();
  return { enabled: user.mfaEnabled, recovery_codes_remaining: user.mfaEnabled ? remaining : 0 };
}

/**
 * Accepts a TOTP code (its step must be newer than the last accepted one) or an unused recovery code,
 * each consumed by one conditional update. Failures are limited per user (429 past the limit); the
 * attempt is counted before the check and handed back when it succeeds.
 */
async function consumeCode(ctx: PublicCtx, user: { id: string; mfaSecret: Uint8Array | null }, code: string): Promise<"totp" | "recovery_code" | null> {
  const { db, config } = ctx.rt;
  const counter = await hit(db, mfaFailureKey(user.id), MFA_FAILURE_WINDOW_MS);
  if (counter.count > config.loginLimits.mfaFailuresPer15Min) {
    throw ApiError.tooManyRequests("Too many wrong MFA codes. Try again later.", counter.retryAfterSeconds);
  }
  let used: "totp" | "recovery_code" | null = null;
  if (/^\d{6}$/.test(code)) {
    const step = user.mfaSecret ? matchTotp(await openSecret(ctx.rt.keystore, user.id, user.mfaSecret), code) : null;
    if (step !== null) {
      const { count } = await db.user.updateMany({ where: { id: user.id, mfaEnabled: true, mfaLastStep: { lt: step } }, data: { mfaLastStep: step } });
      if (count === 1) used = "totp";
    }
  } else {
    const row = await db.recoveryCode.findFirst({ where: { userId: user.id, codeHash: recoveryHash(code), usedAt: null }, select: { id: true } });
    if (row) {
      const { count } = await db.recoveryCode.updateMany({ where: { id: row.id, usedAt: null }, data: { usedAt: new Date() } });
      if (count === 1) used = "recovery_code";
    }
  }
  if (used) await release(db, mfaFailureKey(user.id), MFA_FAILURE_WINDOW_MS);
  return used;
}

export async function disableMfa(anyCtx: Ctx, code: string): Promise<void> {
  const ctx = requireSession(anyCtx);
  const { userId } = ctx.principal;
  const user = await ctx.rt.db.user.findUnique({ where: { id: userId }, select: { id: true, mfaEnabled: true, mfaSecret: true } });
  if (!user) throw ApiError.unauthorized();
  if (!user.mfaEnabled) throw ApiError.conflict("MFA is not enabled");
  const used = await consumeCode(ctx, user, code);
  if (!used) {
    await ctx.rt.audit.record(ctx, { action: "auth.failure", resourceType: "user", resourceId: userId, details: { method: "mfa", reason: "mfa_disable" } });
    throw invalidCode();
  }
  await ctx.rt.db.$transaction(async (tx) => {
    await tx.user.update({ where: { id: userId }, data: { mfaEnabled: false, mfaSecret: null, mfaPendingSecret: null } });
    await tx.recoveryCode.deleteMany({ where: { userId } });
    await appendAudit(tx, auditRow(ctx, { action: "auth.mfa_disable", resourceType: "user", resourceId: userId, details: { with: used } }));
  });
}

/** The end of every first-factor sign-in: an MFA challenge when MFA is on, otherwise the session. */
export async function completeSignIn(
  ctx: PublicCtx,
  user: { id: string; orgId: string; tokenVersion: number; mfaEnabled: boolean },
  method: "password" | "google",
): Promise<LoginResponse> {
  if (user.mfaEnabled) {
    const challenge = await ctx.rt.tokens.issueMfaToken(user);
    return { mfa_required: true, mfa_token: challenge.token };
  }
  const session = await issueSession(ctx.rt, user);
  await ctx.rt.audit.record(ctx, { action: "auth.success", resourceType: "user", resourceId: user.id, details: { method } }, userActor(user));
  return session;
}

/** Second step of an MFA sign-in: the challenge token from `/v1/auth/token` plus a code. */
export async function verifyMfaLogin(ctx: PublicCtx, input: { mfa_token: string; code: string }): Promise<TokenResponse> {
  const { user, used } = await verifyMfaChallenge(ctx, input);
  const session = await issueSession(ctx.rt, user);
  await ctx.rt.audit.record(ctx, { action: "auth.success", resourceType: "user", resourceId: user.id, details: { method: "mfa", with: used } }, userActor(user));
  return session;
}

/**
 * The second factor alone (the API's MFA step and the dashboard's): the user and what was used (a
 * TOTP code or a recovery code) when the challenge is valid and the code right; failures audited.
 */
export async function verifyMfaChallenge(ctx: PublicCtx, input: { mfa_token: string; code: string }) {
  const claims = await ctx.rt.tokens.verifyMfaToken(input.mfa_token);
  const user = await ctx.rt.db.user.findUnique({
    where: { id: claims.userId },
    select: { id: true, orgId: true, tokenVersion: true, mfaEnabled: true, mfaSecret: true },
  });
  // A password change (token version) or MFA switched off since the challenge: start again.
  if (!user || user.tokenVersion !== claims.tokenVersion || user.orgId !== claims.orgId || !user.mfaEnabled) {
    throw ApiError.unauthorized("The MFA token is invalid or expired; sign in again");
  }
  const used = await consumeCode(ctx, user, input.code);
  if (!used) {
    await recordAnonymousFailure(ctx, user, { method: "mfa" });
    throw ApiError.unauthorized("Invalid or already used MFA code");
  }
  return { user: { id: user.id, orgId: user.orgId, tokenVersion: user.tokenVersion, mfaEnabled: user.mfaEnabled }, used };
}

/**
 * Master-key rotation for TOTP secrets (call it beside the vault-key rewrap, before old master keys
 * are destroyed): every sealed secret under an older version is unwrapped and wrapped again under
 * `toVersion`. Each row is replaced only if it still holds the blob that was read. Returns how many
 * rows were rewrapped; a blob that does not open is left alone and keeps its version alive.
 */
export async function rewrapMfaSecrets(rt: Pick<Runtime, "db" | "keystore">, toVersion: number): Promise<{ rewrapped: number; failedUserIds: string[] }> {
  const rows = await rt.db.user.findMany({
    where: { OR: [{ mfaSecret: { not: null } }, { mfaPendingSecret: { not: null } }] },
    select: { id: true, mfaSecret: true, mfaPendingSecret: true },
  });
  let rewrapped = 0;
  const failedUserIds: string[] = [];
  for (const row of rows) {
    for (const field of ["mfaSecret", "mfaPendingSecret"] as const) {
      const sealed = row[field];
      if (!sealed || Buffer.from(sealed).readUInt32BE(0) >= toVersion) continue;
      let resealed: Uint8Array<ArrayBuffer>;
      try {
        resealed = await sealUnder(rt.keystore, row.id, await openSecret(rt.keystore, row.id, sealed), toVersion);
      } catch {
        failedUserIds.push(row.id);
        continue;
      }
      const { count } = await rt.db.user.updateMany({ where: { id: row.id, [field]: { equals: Buffer.from(sealed) } }, data: { [field]: resealed } });
      rewrapped += count;
    }
  }
  return { rewrapped, failedUserIds };
}
