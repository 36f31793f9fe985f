import { randomUUID } from "node:crypto";
import type { CreateIpRuleRequest, IpRuleResponse } from "../../lib/contract/security";
import { auditRow } from "../audit/writer";
import { appendAudit } from "../audit/chain";
import { ApiError } from "../http/errors";
import { type Ctx, requireUser, type UserCtx } from "../http/principal";
import { ipAdmitted, ipRuleCacheFor, parseRules } from "./ip-rule-cache";

/** Rules are checked on every request: keep the list short enough to scan. */
export const MAX_IP_RULES_PER_ORG = 200;

type IpRuleRow = { id: string; ruleType: string; cidr: string; label: string; createdAt: Date };

function toIpRuleResponse(r: IpRuleRow): IpRuleResponse {
  return { id: r.id, rule_type: r.ruleType === "allow" ? "allow" : "deny", cidr: r.cidr, label: r.label || null, created_at: r.createdAt.toISOString() };
}

/** Only the org's owners and admins manage its network rules; members and agents get 403. */
function requireManager(anyCtx: Ctx): UserCtx {
  const ctx = requireUser(anyCtx);
  if (ctx.principal.role !== "owner" && ctx.principal.role !== "admin") throw ApiError.forbidden("Only organisation owners and admins can manage IP rules");
  return ctx;
}

function lockoutError(ip: string) {
  return ApiError.badRequest(
    `This change would block your current IP address (${ip || "unknown"}) and lock you out. Add an allow rule for your network first, or repeat the request with ?force=true.`,
    [{ field: "cidr", message: "would block the caller's current IP address" }],
  );
}

export async function listIpRules(anyCtx: Ctx): Promise<{ rules: IpRuleResponse[] }> {
  const ctx = requireManager(anyCtx);
  const rows = await ctx.rt.db.ipRule.findMany({ where: { orgId: ctx.principal.orgId }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
  return { rules: rows.map(toIpRuleResponse) };
}

/**
 * Adds a rule. Unless `force`, a rule that would refuse the caller's own current address is refused
 * (400): a mistyped allow rule must not silently lock the whole org out.
 */
export async function createIpRule(anyCtx: Ctx, input: CreateIpRuleRequest, force: boolean): Promise<IpRuleResponse> {
  const ctx = requireManager(anyCtx);
  const { orgId } = ctx.principal;
  const row = await ctx.rt.db.$transaction(async (tx) => {
    const existing = await tx.ipRule.findMany({ where: { orgId }, select: { ruleType: true, cidr: true } });
    if (existing.length >= MAX_IP_RULES_PER_ORG) throw ApiError.conflict(`An organisation can have at most ${MAX_IP_RULES_PER_ORG} IP rules`);
    if (!force && !ipAdmitted(parseRules([...existing, { ruleType: input.rule_type, cidr: input.cidr }]), ctx.ip)) throw lockoutError(ctx.ip);
    const created = await tx.ipRule.create({
      data: { id: randomUUID(), orgId, ruleType: input.rule_type, cidr: input.cidr, label: input.label ?? "", createdBy: ctx.principal.userId },
    });
    await appendAudit(tx, auditRow(ctx, { action: "ip_rule.create", resourceType: "ip_rule", resourceId: created.id, details: { rule_type: input.rule_type, cidr: input.cidr, forced: force } }));
    return created;
  });
  ipRuleCacheFor(ctx.rt).invalidate(orgId);
  return toIpRuleResponse(row);
}

/** Deleting can lock out too (the last allow rule covering the caller, with others left): same guard. */
export async function deleteIpRule(anyCtx: Ctx, ruleId: string, force: boolean): Promise<void> {
  const ctx = requireManager(anyCtx);
  const { orgId } = ctx.principal;
  await ctx.rt.db.$transaction(async (tx) => {
    const rules = await tx.ipRule.findMany({ where: { orgId }, select: { id: true, ruleType: true, cidr: true } });
    const target = rules.find((r) => r.id === ruleId);
    if (!target) throw ApiError.notFound("IP rule not found");
    if (!force && !ipAdmitted(parseRules(rules.filter((r) => r.id !== ruleId)), ctx.ip)) throw lockoutError(ctx.ip);
    const { count } = await tx.ipRule.deleteMany({ where: { id: ruleId, orgId } });
    if (count === 0) throw ApiError.notFound("IP rule not found");
    await appendAudit(tx, auditRow(ctx, { action: "ip_rule.delete", resourceType: "ip_rule", resourceId: ruleId, details: { rule_type: target.ruleType, cidr: target.cidr, forced: force } }));
  });
  ipRuleCacheFor(ctx.rt).invalidate(orgId);
}
