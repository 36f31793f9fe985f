import { z } from "@hono/zod-openapi";
import { ZUuid } from "./common";
import { type PolicyPermission, ZPolicyConditions } from "./policies";
import { ZSecretPath } from "./secret-path";

/**
 * "What can this agent reach?" (dashboard, owners and admins): its policies across vaults and the
 * secret paths the access rules let it read or use right now, decided by the code that enforces them.
 */
export const AGENT_REACH_PATHS_MAX = 200;

export type AgentReachPolicy = {
  id: string;
  vault_id: string;
  vault_name: string;
  secret_path_pattern: string;
  permissions: PolicyPermission[];
  effect: "allow" | "deny";
  conditions: z.infer<typeof ZPolicyConditions>;
  expires_at: string | null;
  live: boolean;
};

export type AgentReachVault = {
  vault_id: string;
  vault_name: string;
  /**
   * Paths it may read or use, at most AGENT_REACH_PATHS_MAX. `use_only`: it holds `use` but not `read`
   * there (Talon uses the value for it; every route returning the value refuses). `value_refused`: a
   * type it may list but never receive (raw keys under the crypto proxy).
   */
  paths: { path: string; type: string; use_only: boolean; value_refused: boolean }[];
  more: number;
  /** Why it reaches nothing here, when it does not (binding, no policy). */
  refused: string | null;
};

export type AgentReach = {
  active: boolean;
  policies: AgentReachPolicy[];
  vaults: AgentReachVault[];
};

export const ZTestAgentAccessInput = z.strictObject({ agent_id: ZUuid, vault_id: ZUuid, path: ZSecretPath });
export type TestAgentAccessInput = z.input<typeof ZTestAgentAccessInput>;
type Verdict = { allowed: boolean; reason: string | null };
export type AgentAccessVerdict = { read: Verdict; use: Verdict; write: Verdict };
