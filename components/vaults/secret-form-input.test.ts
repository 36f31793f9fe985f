import { describe, expect, it } from "vitest";
import { ZPutSecretActionInput } from "./action-schemas";
import { isoToLocalInput, type SecretFormState, toPutSecretInput } from "./secret-form-input";

const VAULT = "5b0c7d3e-8f1a-4c2b-9d4e-6f7a8b9c0d1e";
const base: SecretFormState = { path: "api-keys/stripe", value: "sk_test_123", type: "api_key", metadata: "", expiresAt: "", maxReads: "" };

describe("toPutSecretInput", () => {
  it("leaves out the optional fields left empty", () => {
    const r = toPutSecretInput(VAULT, base);
    expect(r).toEqual({ ok: true, input: { vault_id: VAULT, path: "api-keys/stripe", body: { value: "sk_test_123", type: "api_key" } } });
    if (r.ok) expect(ZPutSecretActionInput.safeParse(r.input).success).toBe(true);
  });

  it("parses metadata, the local expiry (as an ISO instant) and the read limit", () => {
    const future = new Date(Date.now() + 86_400_000);
    const r = toPutSecretInput(VAULT, { ...base, metadata: '{"owner":"billing"}', expiresAt: isoToLocalInput(future.toISOString()), maxReads: "3" });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.input.body.metadata).toEqual({ owner: "billing" });
    expect(r.input.body.max_access_count).toBe(3);
    // datetime-local has minute resolution.
    expect(Math.abs(Date.parse(r.input.body.expires_at ?? "") - future.getTime())).toBeLessThan(60_000);
    expect(ZPutSecretActionInput.safeParse(r.input).success).toBe(true);
  });

  it("names the field when metadata is not a JSON object", () => {
    expect(toPutSecretInput(VAULT, { ...base, metadata: "{oops" })).toEqual({ ok: false, errors: { "body.metadata": "is not valid JSON" } });
    const arr = toPutSecretInput(VAULT, { ...base, metadata: "[1]" });
    expect(arr.ok ? [] : Object.keys(arr.errors)).toEqual(["body.metadata"]);
  });

  it("leaves range checks to the contract schema, keyed the way the server keys them", () => {
    const r = toPutSecretInput(VAULT, { ...base, path: "bad//path", maxReads: "-1" });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const parsed = ZPutSecretActionInput.safeParse(r.input);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path.join(".")).sort()).toEqual(["body.max_access_count", "path"]);
  });
});

describe("isoToLocalInput", () => {
  it("round-trips through a datetime-local value to the minute", () => {
    const iso = "2031-05-06T07:08:00.000Z";
    expect(new Date(isoToLocalInput(iso)).toISOString()).toBe(iso);
    expect(isoToLocalInput("not a date")).toBe("");
  });
});
