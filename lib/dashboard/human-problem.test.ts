import { describe, expect, test } from "vitest";
import { z } from "zod";
import { fieldErrorsOf } from "../contract/field-errors";
import { ZCreatePolicyRequest } from "../contract/policies";
import { humanDetail, humanField, humanFieldMessage, humanFieldText, humanProblem } from "./human-problem";

/** What no person should read in the dashboard (issue 11 item 11). */
const RAW = /Conflict:|\/v1\/|\bbody\.|\bHTTP \d{3}|Bad Request|Not Found|Forbidden|Internal Server Error|Unprocessable/;
const isSentence = (s: string) => /^[A-Z“"].*[.!?]$/s.test(s);

describe("human problem messages", () => {
  test("field paths in words", () => {
    expect(humanField("body.value")).toBe("value");
    expect(humanField("body.secret_path_pattern")).toBe("path pattern");
    expect(humanField("metadata.owner")).toBe("metadata owner");
    expect(humanField("ip_allowlist.2")).toBe("IP allowlist (item 3)");
    expect(humanField("principal_id")).toBe("user or agent");
    expect(humanField("webhookUrl")).toBe("webhook URL");
    expect(humanField("input")).toBe("input");
  });

  test("zod's wording as the end of a sentence", () => {
    expect(humanFieldMessage("Too big: expected string to have <=256 characters")).toBe("must be at most 256 characters");
    expect(humanFieldMessage("Too small: expected string to have >=1 characters")).toBe("is required");
    expect(humanFieldMessage("Invalid input: expected string, received undefined")).toBe("is required");
    expect(humanFieldMessage("Invalid option: expected one of \"read\"|\"write\"")).toBe('must be one of "read", "write"');
    expect(humanFieldMessage("Invalid UUID")).toBe("must be chosen from the list");
    expect(humanFieldMessage("unknown field")).toBe("is not a field this form sends");
    expect(humanFieldMessage("must be in the future")).toBe("must be in the future");
    // Beneath an input, a sentence of its own.
    expect(humanFieldText("Too big: expected string to have <=256 characters")).toBe("Must be at most 256 characters.");
    expect(humanFieldText("'**' must be a whole segment")).toBe("'**' must be a whole segment.");
    expect(humanFieldText("Invalid DPoP proof")).toBe("Invalid DPoP proof.");
  });

  test("a validation problem from the API's hook reads as sentences, fields kept for the inputs", () => {
    const p = humanProblem({
      status: 400,
      title: "Bad Request",
      detail: "Invalid body: body.value: Too big: expected string to have <=65536 characters; body.metadata.owner: Invalid input: expected string, received number",
      fields: [
        { field: "body.value", message: "Too big: expected string to have <=65536 characters" },
        { field: "body.metadata.owner", message: "Invalid input: expected string, received number" },
      ],
    });
    expect(p.detail).toBe("Value must be at most 65536 characters. Metadata owner must be a string.");
    expect(p.fields).toEqual([
      { field: "body.value", message: "Must be at most 65536 characters." },
      { field: "body.metadata.owner", message: "Must be a string." },
    ]);
    expect(p.detail).not.toMatch(RAW);
  });

  test("a real contract refusal (an invalid policy pattern) as the dashboard's invalidInput builds it", () => {
    const r = ZCreatePolicyRequest.safeParse({ principal_type: "agent", principal_id: "00000000-0000-4000-8000-000000000000", secret_path_pattern: "app/**x" });
    expect(r.success).toBe(false);
    const fields = fieldErrorsOf(r.error!.issues, "input");
    const p = humanProblem({ status: 400, title: "Bad Request", detail: fields.map((f) => `${f.field}: ${f.message}`).join("; "), fields });
    expect(p.detail).toBe("Path pattern '**' must be a whole segment.");
    expect(isSentence(p.detail)).toBe(true);
    // zod's own schema too: an unknown key.
    const strict = z.strictObject({ name: z.string() }).safeParse({ name: "a", extra: 1 });
    const f2 = fieldErrorsOf(strict.error!.issues, "input");
    expect(humanProblem({ status: 400, title: "Bad Request", detail: `${f2[0]!.field}: ${f2[0]!.message}`, fields: f2 }).detail).toBe("Extra is not a field this form sends.");
  });

  test("leads, status words and API paths come off; what is left is a sentence", () => {
    expect(humanDetail('Conflict: A vault named "ops" already exists in this organisation', 409)).toBe('A vault named "ops" already exists in this organisation.');
    expect(humanDetail("No MFA enrolment in progress; start with POST /v1/auth/mfa/setup", 409)).toBe("No MFA enrolment in progress.");
    expect(humanDetail('crypto_proxy_enabled is false for this agent: a human must enable it (PATCH /v1/agents/{id} {"crypto_proxy_enabled": true})', 403)).toBe(
      "Crypto_proxy_enabled is false for this agent: a human must enable it.",
    );
    expect(humanDetail("/v1/agents/me is for agents; humans use GET /v1/auth/me", 403)).toBe("You do not have permission to do this.");
    expect(humanDetail("expires_at: must be in the future", 400)).toBe("Expiry must be in the future.");
    expect(humanDetail("Not Found", 404)).toBe("That item no longer exists, or you cannot see it.");
    expect(humanDetail("HTTP 409", 409)).toBe("This clashes with something that already exists. Reload the page and try again.");
    expect(humanDetail("The code is invalid or was already used", 400)).toBe("The code is invalid or was already used.");
  });

  test("server errors give the fallback with the request id to quote", () => {
    const p = humanProblem({ status: 500, title: "Internal Server Error", detail: "TypeError: cannot read properties of undefined at /srv/x.js" }, "req-123");
    expect(p.detail).toBe("Something went wrong — try again; reference req-123.");
    expect(humanDetail("anything", 502)).toBe("Something went wrong — try again.");
    expect(humanDetail("The database is unavailable; retry shortly", 503)).toBe("The database is unavailable; retry shortly.");
  });

  test("idempotent: a humanised problem comes back unchanged", () => {
    const inputs = [
      { status: 400, title: "Bad Request", detail: "name: Too small: expected string to have >=1 characters", fields: [{ field: "name", message: "Too small: expected string to have >=1 characters" }] },
      { status: 409, title: "Conflict", detail: 'Conflict: A vault named "x" already exists' },
      { status: 500, title: "Internal Server Error", detail: "boom" },
      { status: 403, title: "Forbidden", detail: "Only organisation owners can change roles" },
    ];
    for (const i of inputs) {
      const once = humanProblem(i, "r-1");
      expect(humanProblem(once, "r-1")).toEqual(once);
      expect(once.detail).not.toMatch(RAW);
      expect(isSentence(once.detail), once.detail).toBe(true);
    }
  });
});
