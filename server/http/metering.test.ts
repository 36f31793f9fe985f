import { describe, expect, it } from "vitest";
import { isMeteredPath } from "./metering";

describe("isMeteredPath", () => {
  it("meters /v1 routes outside the free groups, and chain verification inside one", () => {
    for (const path of ["/v1/vaults", "/v1/vaults/v/secrets/a/b", "/v1/agents/me", "/v1/audit/verify", "/v1/authx", "/v1/organisation"]) {
      expect(isMeteredPath(path), path).toBe(true);
    }
  });

  it("leaves the free groups, their own paths and everything outside /v1 unmetered", () => {
    for (const path of ["/v1/auth", "/v1/auth/agent-token", "/v1/health", "/v1/audit", "/v1/audit/events", "/v1/org", "/v1/org/members", "/v1/security/ip-rules", "/v1/chains", "/v1/billing/usage", "/mcp", "/openapi.json"]) {
      expect(isMeteredPath(path), path).toBe(false);
    }
  });
});
