import { z } from "@hono/zod-openapi";
import { cidrProblem } from "../cidr";
import { ZUuid } from "./common";

export const ZIpRuleType = z.enum(["allow", "deny"]);

export const ZCreateIpRuleRequest = z
  .strictObject({
    rule_type: ZIpRuleType,
    cidr: z
      .string()
      .trim()
      .min(1)
      .max(64)
      .superRefine((v, ctx) => {
        const problem = cidrProblem(v);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      })
      .openapi({ example: "10.0.0.0/8", description: "IPv4 or IPv6 network; a bare address means a single host" }),
    label: z.string().trim().max(255).optional().openapi({ example: "office VPN" }),
  })
  .openapi("CreateIpRuleRequest");

export const ZIpRuleForceQuery = z.object({
  force: z
    .enum(["true", "false"])
    .optional()
    .openapi({
      param: { name: "force", in: "query" },
      description: "`true` applies a change even though it blocks the caller's current IP address (which would lock them out)",
    }),
});

export const ZIpRule = z
  .object({
    id: ZUuid,
    rule_type: ZIpRuleType,
    cidr: z.string(),
    label: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("IpRule");

export const ZIpRuleListResponse = z.object({ rules: z.array(ZIpRule) }).openapi("IpRuleList");

export const ZRuleIdParam = z.object({ rule_id: ZUuid.openapi({ param: { name: "rule_id", in: "path" } }) });

export type CreateIpRuleRequest = z.infer<typeof ZCreateIpRuleRequest>;
export type IpRuleResponse = z.infer<typeof ZIpRule>;
