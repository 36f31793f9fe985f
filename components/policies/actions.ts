import type { z } from "zod";
import type { PolicyResponse, ZCreatePolicyRequest, ZUpdatePolicyRequest } from "@/lib/contract/policies";
import type { ActionResult } from "@/lib/dashboard/action-result";

/** The server actions the policies page hands to these components (app/(dashboard)/policies/actions.ts). */
export type GrantAccess = (input: { vault_id: string; body: z.input<typeof ZCreatePolicyRequest> }) => Promise<ActionResult<PolicyResponse>>;
export type UpdatePolicy = (input: { vault_id: string; policy_id: string; body: z.input<typeof ZUpdatePolicyRequest> }) => Promise<ActionResult<PolicyResponse>>;
export type RevokePolicy = (input: { vault_id: string; policy_id: string }) => Promise<ActionResult<null>>;

/** Users by email and agents by name, to pick a principal and to name one in the list. */
export type PrincipalOption = { id: string; label: string };
export type Principals = { user: PrincipalOption[]; agent: PrincipalOption[] };
