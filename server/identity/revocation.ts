import { auditRow } from "../audit/writer";
import { appendAudit } from "../audit/chain";
import { ApiError } from "../http/errors";
import type { Ctx } from "../http/principal";
import { isJwtShaped } from "../../lib/jwt-shape";
import { revokeRefreshFamily } from "./refresh";
import { refreshFamilyOf } from "./tokens";

/**
 * DELETE /v1/auth/token: puts the presented JWT's jti on the denylist (RevokedToken), which every JWT
 * check reads in the same query as the principal — so the token fails on its next use at any instance
 * sharing the database. A row is needed only until the token would have expired anyway: expired rows
 * are purged here, on insert, so the table stays as small as the set of live revoked tokens.
 * A user's access token also ends the refresh-token family it was issued with (claim `rfam`), so a
 * signed-out session cannot be revived with its refresh token; the user's other sessions go on.
 * Keys are not tokens: a `1ck_`/`ocv_` key is revoked by deleting or rotating it.
 */
export async function revokePresentedToken(ctx: Ctx, bearer: string): Promise<void> {
  const p = ctx.principal;
  if (!isJwtShaped(bearer) || p.expiresAt === undefined) {
    throw ApiError.badRequest(
      p.kind === "agent"
        ? "This is an agent API key, not a token: rotate it (POST /v1/agents/{id}/rotate-key) or deactivate the agent instead"
        : "This is a personal API key, not a token: delete it (DELETE /v1/auth/api-keys/{id}) instead",
    );
  }
  // Verified again only to read the family: the pipeline's principal does not carry token claims.
  const family = p.kind === "user" ? refreshFamilyOf(await ctx.rt.tokens.verify(bearer)) : null;
  const now = new Date();
  await ctx.rt.db.$transaction(async (tx) => {
    await tx.revokedToken.deleteMany({ where: { expiresAt: { lt: now } } });
    // An upsert: two concurrent revocations of one token both succeed.
    await tx.revokedToken.upsert({ where: { jti: p.credentialId }, create: { jti: p.credentialId, expiresAt: new Date(p.expiresAt! * 1000) }, update: {} });
    const refreshRevoked = p.kind === "user" && family ? await revokeRefreshFamily(tx, p.userId, family) : 0;
    await appendAudit(
      tx,
      auditRow(ctx, {
        action: "auth.token_revoke",
        resourceType: p.kind === "agent" ? "agent" : "user",
        resourceId: p.kind === "agent" ? p.agentId : p.userId,
        details: family ? { jti: p.credentialId, family_id: family, refresh_tokens_revoked: refreshRevoked } : { jti: p.credentialId },
      }),
    );
  });
}
