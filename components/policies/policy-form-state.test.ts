import { describe, expect, it } from "vitest";
import { ZCreatePolicyRequest, ZUpdatePolicyRequest, type PolicyResponse } from "../../lib/contract/policies";
import { conditionsOf, createBody, describeApproval, describeConditions, emptyPolicyForm, policyFormOf, updateBody } from "./policy-form-state";

const AGENT = "7f1c5a52-5a7d-4c53-9a0e-8d1f1b2c3d4e";

const policy: PolicyResponse = {
  id: "0b8a2a52-5a7d-4c53-9a0e-8d1f1b2c3d4e",
  vault_id: "1c8a2a52-5a7d-4c53-9a0e-8d1f1b2c3d4e",
  secret_path_pattern: "api-keys/*",
  principal_type: "agent",
  principal_id: AGENT,
  permissions: ["read"],
  conditions: { ip_allowlist: ["10.0.0.0/8"], time_window: { after: "08:00", before: "20:00", timezone: "Europe/Paris", days_of_week: [1, 2, 3, 4, 5] } },
  effect: "allow",
  priority: 0,
  policy_schema_version: 1,
  expires_at: "2020-01-01T00:00:00.000Z",
  created_by: "user:x",
  created_by_type: "user",
  created_at: "2019-01-01T00:00:00.000Z",
};

describe("policy form → request bodies", () => {
  it("builds a create body the contract accepts, leaving out empty conditions and expiry", () => {
    const body = createBody({ ...emptyPolicyForm(), principalId: AGENT, pattern: " db/** ", write: true });
    expect(body).toEqual({ principal_type: "agent", principal_id: AGENT, secret_path_pattern: "db/**", permissions: ["read", "write"], effect: "allow" });
    expect(ZCreatePolicyRequest.safeParse(body).success).toBe(true);
  });

  it("a use-only grant: use alone, and it round-trips through the edit form", () => {
    const body = createBody({ ...emptyPolicyForm(), principalId: AGENT, pattern: "api-keys/*", read: false, use: true });
    expect(body.permissions).toEqual(["use"]);
    expect(ZCreatePolicyRequest.safeParse(body).success).toBe(true);
    const usePolicy: PolicyResponse = { ...policy, permissions: ["use"] };
    expect(policyFormOf(usePolicy)).toMatchObject({ read: false, write: false, use: true });
    expect(updateBody(usePolicy, policyFormOf(usePolicy)).permissions).toEqual(["use"]);
  });

  it("keeps conditions: CIDRs one per line, the window with its days; every day means no days_of_week", () => {
    const f = { ...emptyPolicyForm(), ips: "10.0.0.0/8\n\n 2001:db8::/32 ", windowOn: true, days: [5, 1, 1] };
    expect(conditionsOf(f)).toEqual({ ip_allowlist: ["10.0.0.0/8", "2001:db8::/32"], time_window: { after: "09:00", before: "18:00", timezone: "UTC", days_of_week: [1, 5] } });
    expect(conditionsOf({ ...f, ips: "", days: [1, 2, 3, 4, 5, 6, 7] })).toEqual({ time_window: { after: "09:00", before: "18:00", timezone: "UTC" } });
    expect(conditionsOf(emptyPolicyForm())).toBeNull();
  });

  it("round-trips an existing policy: the update clears nothing and leaves a past expiry alone", () => {
    const body = updateBody(policy, policyFormOf(policy));
    expect(body).toEqual({ permissions: ["read"], conditions: { ip_allowlist: ["10.0.0.0/8"], time_window: policy.conditions.time_window } });
    expect(ZUpdatePolicyRequest.safeParse(body).success).toBe(true);
    expect(updateBody(policy, { ...policyFormOf(policy), ips: "", windowOn: false, expires: "" })).toEqual({ permissions: ["read"], conditions: null, expires_at: null });
  });

  it("require_approval: the box asks for every action, the threshold alone only for transactions; both round-trip and clear", () => {
    const base = { ...emptyPolicyForm(), principalId: AGENT, pattern: "prod/*" };
    expect(createBody(base)).not.toHaveProperty("require_approval");
    expect(createBody({ ...base, approval: true }).require_approval).toBe(true);
    expect(createBody({ ...base, txAboveEth: " 0.5 " }).require_approval).toEqual({ actions: [], transaction_above_eth: "0.5" });
    const both = createBody({ ...base, approval: true, txAboveEth: "2" });
    expect(both.require_approval).toEqual({ actions: ["read", "write", "use"], transaction_above_eth: "2" });
    expect(ZCreatePolicyRequest.safeParse(both).success).toBe(true);
    expect(ZCreatePolicyRequest.safeParse(createBody({ ...base, txAboveEth: "lots" })).success).toBe(false);

    const gated: PolicyResponse = { ...policy, require_approval: { actions: ["read", "write", "use"], transaction_above_eth: "2" } };
    expect(policyFormOf(gated)).toMatchObject({ approval: true, txAboveEth: "2" });
    expect(updateBody(gated, policyFormOf(gated)).require_approval).toEqual({ actions: ["read", "write", "use"], transaction_above_eth: "2" });
    // Unticking and emptying clears it (null); a policy that never had it is left alone.
    expect(updateBody(gated, { ...policyFormOf(gated), approval: false, txAboveEth: "" }).require_approval).toBeNull();
    expect(updateBody(policy, policyFormOf(policy))).not.toHaveProperty("require_approval");
    expect(describeApproval(gated.require_approval)).toEqual(["Needs a human's approval to read, write, use", "Transactions above 2 ETH need approval"]);
    expect(describeApproval(undefined)).toEqual([]);
  });

  it("describes conditions for the list", () => {
    expect(describeConditions(policy.conditions)).toEqual(["From 10.0.0.0/8", "08:00–20:00 Europe/Paris, Mon, Tue, Wed, Thu, Fri"]);
    expect(describeConditions({})).toEqual([]);
  });
});
