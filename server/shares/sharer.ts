import { assertMayReceiveValue, assertPathAccess, type VaultForAccess } from "../access/evaluate";
import { parseList } from "../agents/records";
import { ApiError } from "../http/errors";
import type { OrgRole, Principal, PublicCtx } from "../http/principal";

/**
 * A share is the sharer's read, handed on: it lives only as long as the sharer could still make that
 * read. On every access the sharer is rebuilt from the database as it is now — a removed member or a
 * deleted or deactivated agent is nobody — and put through the same decision as a read of the path by
 * them (vault binding, scopes, live policies with their conditions for this request, owner bypass, the
 * raw-key rule). The credential they shared with is not known any more; its scopes were checked when
 * the share was created.
 */
const REF = /^(user|agent):([0-9a-f-]{36})$/;

export const sharerGone = () => ApiError.gone("The person who shared this no longer has access");

async function sharerAsNow(ctx: PublicCtx, orgId: string, createdBy: string): Promise<Principal | null> {
  const m = REF.exec(createdBy);
  if (!m) return null;
  const [, kind, id] = m as unknown as [string, "user" | "agent", string];
  if (kind === "user") {
    const user = await ctx.rt.db.user.findFirst({ where: { id, orgId }, select: { role: true } });
    return user ? { kind: "user", userId: id, orgId, role: user.role as OrgRole, via: "jwt", credentialId: createdBy } : null;
  }
  const agent = await ctx.rt.db.agent.findFirst({
    where: { id, orgId, isActive: true, OR: [{ expiresAt: null }, { expiresAt: { gt: new Date() } }] },
    select: { createdBy: true, scopes: true, vaultIds: true, cryptoProxyEnabled: true },
  });
  if (!agent) return null;
  return {
    kind: "agent",
    agentId: id,
    orgId,
    createdBy: agent.createdBy,
    via: "api_key",
    credentialId: createdBy,
    scopes: parseList(agent.scopes),
    vaultIds: parseList(agent.vaultIds),
    cryptoProxyEnabled: agent.cryptoProxyEnabled,
  };
}

/** 410 unless the share's creator may, right now, read the value of `type` at `path` in `vault`. */
export async function assertSharerStillReads(
  ctx: PublicCtx,
  share: { orgId: string; createdBy: string },
  vault: VaultForAccess,
  path: string,
  type: string,
): Promise<void> {
  const sharer = await sharerAsNow(ctx, share.orgId, share.createdBy);
  if (!sharer) throw sharerGone();
  try {
    await assertPathAccess({ rt: ctx.rt, requestId: ctx.requestId, ip: ctx.ip, principal: sharer }, vault, path, "read");
    assertMayReceiveValue(sharer, path, type);
  } catch (e) {
    if (e instanceof ApiError && (e.status === 403 || e.status === 404)) throw sharerGone();
    throw e;
  }
}
