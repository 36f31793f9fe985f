import { describe, expect, it } from "vitest";
import { guardrailChanges, guardrailsForm, hasTransactionGuardrails } from "./guardrails";

const agent = {
  crypto_proxy_enabled: false,
  tx_to_allowlist: ["0x52908400098527886e0f7030069857d2e4169ee7"],
  tx_max_value_eth: "0.5",
  tx_daily_limit_eth: null,
  tx_allowed_chains: ["base", "sepolia"],
  token_ttl_seconds: 300,
  vault_ids: ["7f1c5a52-5a7d-4c53-9a0e-8d1f1b2c3d4e"],
};

describe("guardrailChanges", () => {
  it("sends nothing for an untouched form, even with the address re-cased and the chains reordered", () => {
    const f = guardrailsForm(agent);
    expect(guardrailChanges(agent, f)).toEqual({});
    expect(guardrailChanges(agent, { ...f, allowlist: " 0x52908400098527886E0F7030069857D2E4169EE7 \n\n", chains: ["sepolia", "base"] })).toEqual({});
  });

  it("sends exactly the changed fields, blanks as null", () => {
    const f = guardrailsForm(agent);
    expect(guardrailChanges(agent, { ...f, crypto: true, maxValue: "", dailyLimit: "2", ttl: "", vaultIds: [] })).toEqual({
      crypto_proxy_enabled: true,
      tx_max_value_eth: null,
      tx_daily_limit_eth: "2",
      token_ttl_seconds: null,
      vault_ids: [],
    });
  });

  it("passes bad input through for the contract schema to name", () => {
    const f = guardrailsForm(agent);
    expect(guardrailChanges(agent, { ...f, allowlist: "0x1234", ttl: "abc" })).toEqual({ tx_to_allowlist: ["0x1234"], token_ttl_seconds: NaN });
  });
});

describe("hasTransactionGuardrails", () => {
  const none = { ...agent, tx_to_allowlist: [], tx_max_value_eth: null, tx_allowed_chains: [] };
  it("is false for an agent without transaction limits, whatever its TTL and vault binding", () => {
    expect(hasTransactionGuardrails(none)).toBe(false);
  });
  it("is true as soon as one transaction guardrail is set", () => {
    expect(hasTransactionGuardrails(agent)).toBe(true);
    expect(hasTransactionGuardrails({ ...none, crypto_proxy_enabled: true })).toBe(true);
    expect(hasTransactionGuardrails({ ...none, tx_daily_limit_eth: "1" })).toBe(true);
  });
});
