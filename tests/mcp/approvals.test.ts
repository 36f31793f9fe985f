import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server";
import { agentWithVault, call, connectHttp, NO_LIMITS } from "./helpers";

/** An MCP tool call that needs a human's approval says so in words an agent can relay, with the request id; get_approval_status follows it. */
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ env: NO_LIMITS });
}, 60_000);
afterAll(async () => {
  await server?.close();
});

describe("approvals over MCP", () => {
  test("get_secret on a gated path: pending approval in words, then approved, then the value", async () => {
    const w = await agentWithVault(server);
    const value = `mcp-approval-${Math.random().toString(36).slice(2)}`;
    expect((await w.api.put(`/v1/vaults/${w.vaultId}/secrets/gated/key`, { value })).status).toBe(201);
    const policies = (await w.api.get(`/v1/vaults/${w.vaultId}/policies`)).body.policies as { id: string }[];
    expect((await w.api.put(`/v1/vaults/${w.vaultId}/policies/${policies[0]!.id}`, { require_approval: { actions: ["read"] } })).status).toBe(200);
    const mcp = await connectHttp(server.url, { Authorization: `Bearer ${w.apiKey}`, "X-Vault-ID": w.vaultId });
    try {
      const refused = await call(mcp.client, "get_secret", { path: "gated/key" });
      expect(refused.isError).toBe(true);
      expect(refused.text).toContain("Pending human approval");
      const id = /approval request ([0-9a-f-]{36})/.exec(refused.text)?.[1];
      expect(id).toBeTruthy();
      expect(refused.text).not.toContain(value);

      const pending = await call(mcp.client, "get_approval_status", { approval_request_id: id });
      expect(pending.isError).toBe(false);
      expect(pending.data).toMatchObject({ id, status: "pending", resource: "gated/key" });

      expect((await w.api.post(`/v1/approvals/${id}/approve`, {})).status).toBe(200);
      expect((await call(mcp.client, "get_approval_status", { approval_request_id: id })).data.status).toBe("approved");
      const read = await call(mcp.client, "get_secret", { path: "gated/key" });
      expect(read.isError).toBe(false);
      expect(read.text).toContain(value);
    } finally {
      await mcp.close();
    }
  });
});
