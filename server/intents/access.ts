import type { Agent } from "../../generated/sqlite/client";
import { ApiError } from "../http/errors";
import type { Ctx } from "../http/principal";

/**
 * Who may use an agent's crypto proxy: the agent itself, or a human of its org. Another org's agent,
 * and another agent of the same org, are 404 (an agent learns nothing about its peers). The flag is
 * read from the row, not the token: a human who turns it off stops the proxy at once.
 */
export async function proxyAgent(ctx: Ctx, agentId: string, opts: { requireEnabled: boolean }): Promise<Agent> {
  const agent = await ctx.rt.db.agent.findFirst({ where: { id: agentId, orgId: ctx.principal.orgId } });
  if (!agent || (ctx.principal.kind === "agent" && ctx.principal.agentId !== agentId)) throw ApiError.notFound("Agent not found");
  if (opts.requireEnabled && !agent.cryptoProxyEnabled) {
    throw ApiError.forbidden("crypto_proxy_enabled is false for this agent: a human must enable it (PATCH /v1/agents/{id} {\"crypto_proxy_enabled\": true})");
  }
  if (opts.requireEnabled && !agent.isActive) throw ApiError.forbidden("This agent is deactivated");
  return agent;
}
