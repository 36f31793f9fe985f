import "server-only";
import type { OnboardingSteps } from "../../lib/dashboard/onboarding";
import type { UserCtx } from "../http/principal";

/**
 * The first-run checklist of a new org, every step read from what exists (never a flag someone ticks):
 * a vault, a secret in it, an agent, a policy letting an agent read, and an agent's first read of a
 * secret. The last, an audit query, runs only once the others are done, so an established org pays
 * for five cheap look-ups and the checklist disappears for good once an agent has read a secret.
 */
export async function onboardingState(ctx: UserCtx): Promise<OnboardingSteps> {
  const db = ctx.rt.db;
  const orgId = ctx.principal.orgId;
  const [vault, secret, agent, policy] = await Promise.all([
    db.vault.findFirst({ where: { orgId, isSystem: false }, orderBy: { createdAt: "asc" }, select: { id: true } }),
    db.secret.findFirst({ where: { deletedAt: null, vault: { orgId, isSystem: false } }, orderBy: { createdAt: "asc" }, select: { vaultId: true, path: true } }),
    db.agent.findFirst({ where: { orgId }, orderBy: { createdAt: "asc" }, select: { id: true } }),
    db.policy.findFirst({ where: { orgId, principalType: "agent", effect: "allow" }, select: { id: true } }),
  ]);
  const earlierDone = vault !== null && secret !== null && agent !== null && policy !== null;
  const agentRead = earlierDone && (await db.auditEvent.findFirst({ where: { orgId, action: "secret.read", actorType: "agent" }, select: { id: true } })) !== null;
  return { vaultId: vault?.id ?? null, secret, agentId: agent?.id ?? null, policy: policy !== null, agentRead };
}
