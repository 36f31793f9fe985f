import { expect, test } from "vitest";
import { errorText } from "../../lib/mcp/errors";

const err = (status: number, type: string, detail = "the server's detail") => errorText({ type, message: "x", detail }, { status, requestId: "req-1" });

test("each status tells the agent what to do, then quotes the server's detail and the request id", () => {
  expect(err(404, "not_found")).toMatch(/^Secret not found: use list_secrets to see available paths\.\nServer detail: the server's detail\nRequest id: req-1$/);
  expect(errorText({ type: "not_found", message: "x", detail: "d" }, { status: 404, requestId: null }, "vault")).toContain("use list_vaults");
  expect(err(410, "gone")).toContain("Ask the user to store a new version");
  expect(err(402, "payment_required")).toContain("ask the human to top up credits or upgrade");
  expect(err(403, "forbidden", "Guardrail: chain not allowed")).toMatch(/grant this agent access via a policy[\s\S]*Guardrail: chain not allowed/);
  expect(err(403, "resource_limit_exceeded")).toContain("upgrade the plan");
  expect(err(429, "rate_limited")).toContain("wait");
  expect(err(401, "unauthorized")).toContain("credentials");
  expect(err(0, "network_error")).toContain("ONECLAW_BASE_URL");
  expect(err(500, "server_error")).toContain("try again later");
});
