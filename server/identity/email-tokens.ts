import { randomBytes, randomUUID } from "node:crypto";
import { sha256 } from "../crypto/digest";
import type { Db, Tx } from "../db";

/**
 * Single-use tokens mailed to an address (verification, password reset): 32 random bytes, of which
 * only the SHA-256 is stored. A fast hash is enough for a value with 256 bits of entropy.
 */
export const VERIFY_EMAIL_PURPOSE = "verify_email";
export const RESET_PASSWORD_PURPOSE = "reset_password";
export type EmailTokenPurpose = typeof VERIFY_EMAIL_PURPOSE | typeof RESET_PASSWORD_PURPOSE;

export const newEmailToken = () => randomBytes(32).toString("base64url");

export async function storeEmailToken(db: Db | Tx, userId: string, purpose: EmailTokenPurpose, token: string, ttlMs: number): Promise<void> {
  await db.emailToken.create({ data: { id: randomUUID(), userId, purpose, tokenHash: sha256(token, "hex"), expiresAt: new Date(Date.now() + ttlMs) } });
}

/** The link a mail carries: the token in the fragment, which browsers never send to a server or a Referer. */
export const tokenLink = (publicUrl: string, page: string, token: string) => `${publicUrl}/${page}#token=${encodeURIComponent(token)}`;
