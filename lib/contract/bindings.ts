import { z } from "@hono/zod-openapi";
import { ZUuid } from "./common";
import { ZSecretPath } from "./secret-path";

/**
 * Credential-injecting HTTP bindings (issue 14): a vault's secret path, the one destination it may be
 * sent to (scheme + host + port, a path prefix, methods) and how it is injected. Agents holding `use`
 * (or `read`) on the path call `POST /v1/agents/{id}/execute`; Talon sends the request with the value
 * injected and returns the answer with every known secret value redacted. Humans manage bindings.
 */
export const BINDING_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] as const;
export const BINDING_INJECT_KINDS = ["bearer", "header", "query", "basic", "env_field"] as const;
export const BINDINGS_PER_VAULT = 50;
/** Caps of one execute call: the request body Talon forwards, and the upstream answer it reads. */
export const EXECUTE_REQUEST_BODY_MAX_BYTES = 48 * 1024;
export const EXECUTE_RESPONSE_BODY_MAX_BYTES = 1024 * 1024;
export const EXECUTE_TIMEOUT_MS = 15_000;
export const EXECUTE_MAX_REDIRECTS = 3;

const HEADER_NAME_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,128}$/;
/** Header values: visible ASCII and spaces/tabs only, so no CR/LF can split a header. */
const HEADER_VALUE_RE = /^[\t\x20-\x7e]*$/;
const NAME_RE = /^[a-z0-9]([a-z0-9_-]{0,62}[a-z0-9])?$/;
/** A hostname or an IP literal (IPv6 in brackets or bare); checked again by the server. */
const HOST_RE = /^(\[[0-9a-fA-F:.]{2,45}\]|[0-9a-fA-F:]{2,45}|[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)$/;

const ZHeaderName = z.string().max(128).regex(HEADER_NAME_RE, "must be an HTTP header name (token characters)");
const ZHeaderValue = z.string().max(8192).regex(HEADER_VALUE_RE, "must be printable ASCII without line breaks");
const ZQueryName = z.string().min(1).max(128).regex(/^[A-Za-z0-9_.\-[\]]+$/, "may contain letters, digits and _ . - [ ]");
const ZEnvField = z.string().min(1).max(128).regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an env variable name");

export const ZBindingName = z
  .string()
  .max(64)
  .regex(NAME_RE, "must be 1-64 lowercase letters, digits, '_' or '-', starting and ending with a letter or digit")
  .openapi({ example: "stripe-api" });

/** Dot segments and encoded separators are refused in any spelling, so a prefix check on the text is a check on what the upstream sees. */
export function urlPathProblem(path: string): string | null {
  if (!path.startsWith("/")) return "must start with /";
  if (/[?#\\\s]/.test(path) || /[^\x21-\x7e]/.test(path)) return "must not contain ?, #, \\, spaces or non-ASCII characters (put the query in `query`)";
  if (path.includes("//")) return "must not contain empty segments (//)";
  if (/%(2e|2f|5c|00|25)/i.test(path)) return "must not percent-encode '.', '/', '\\', '%' or NUL";
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return "has a malformed percent-encoding";
  }
  if (decoded.split("/").some((s) => s === "." || s === "..")) return "must not contain . or .. segments";
  return null;
}

const ZUrlPath = (max: number) =>
  z
    .string()
    .max(max)
    .superRefine((p, ctx) => {
      const problem = urlPathProblem(p);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    });

export const ZBindingInject = z
  .discriminatedUnion("kind", [
    z.strictObject({ kind: z.literal("bearer") }).openapi({ description: "`Authorization: Bearer {value}`" }),
    z
      .strictObject({ kind: z.literal("header"), header_name: ZHeaderName, prefix: z.string().max(64).regex(HEADER_VALUE_RE).default("") })
      .openapi({ description: "`{header_name}: {prefix}{value}` (e.g. `X-Api-Key`)" }),
    z.strictObject({ kind: z.literal("query"), param_name: ZQueryName }).openapi({ description: "`?{param_name}={value}` on the request URL" }),
    z
      .strictObject({ kind: z.literal("basic"), username: z.string().max(256).regex(/^[^:\r\n]*$/, "must not contain ':' or line breaks") })
      .openapi({ description: "`Authorization: Basic base64({username}:{value})`" }),
    z
      .strictObject({
        kind: z.literal("env_field"),
        field: ZEnvField,
        as: z.enum(["bearer", "header", "query"]).default("bearer"),
        header_name: ZHeaderName.optional(),
        param_name: ZQueryName.optional(),
      })
      .refine((i) => i.as !== "header" || i.header_name !== undefined, { message: "header_name is required when as is header", path: ["header_name"] })
      .refine((i) => i.as !== "query" || i.param_name !== undefined, { message: "param_name is required when as is query", path: ["param_name"] })
      .openapi({ description: "One variable of an `env_bundle` secret, injected as a bearer token, a header or a query parameter" }),
  ])
  .openapi("BindingInject");

const ZMethods = z
  .array(z.enum(BINDING_METHODS))
  .min(1)
  .max(BINDING_METHODS.length)
  .refine((a) => new Set(a).size === a.length, "must not repeat a method");

const bindingFields = {
  name: ZBindingName,
  secret_path: ZSecretPath,
  scheme: z.enum(["https", "http"]).default("https").openapi({ description: "`http` only for bindings marked internal" }),
  host: z.string().min(1).max(253).regex(HOST_RE, "must be a host name or an IP address").openapi({ example: "api.stripe.com" }),
  port: z.number().int().min(1).max(65535).optional().openapi({ description: "Defaults to 443 (https) or 80 (http)" }),
  path_prefix: ZUrlPath(512).default("/").openapi({ description: "Requests must stay under this path", example: "/v1/" }),
  methods: ZMethods.default(["GET"]),
  inject: ZBindingInject,
  internal: z.boolean().default(false).openapi({
    description: "Allow loopback, private and link-local destinations. Set only by humans (org owners and admins): it opens your network to agents holding `use` on the path.",
  }),
  description: z.string().max(500).default(""),
};

export const ZCreateBindingRequest = z.strictObject(bindingFields).openapi("CreateBindingRequest");

export const ZUpdateBindingRequest = z
  .strictObject({
    name: bindingFields.name.optional(),
    secret_path: bindingFields.secret_path.optional(),
    scheme: z.enum(["https", "http"]).optional(),
    host: bindingFields.host.optional(),
    port: z.number().int().min(1).max(65535).optional(),
    path_prefix: ZUrlPath(512).optional(),
    methods: ZMethods.optional(),
    inject: ZBindingInject.optional(),
    internal: z.boolean().optional(),
    description: z.string().max(500).optional(),
  })
  .refine((b) => Object.keys(b).length > 0, "must change at least one field")
  .openapi("UpdateBindingRequest");

export const ZBinding = z
  .object({
    id: ZUuid,
    vault_id: ZUuid,
    name: z.string(),
    secret_path: z.string(),
    scheme: z.enum(["https", "http"]),
    host: z.string(),
    port: z.number().int(),
    path_prefix: z.string(),
    methods: z.array(z.enum(BINDING_METHODS)),
    inject: ZBindingInject,
    internal: z.boolean(),
    description: z.string(),
    created_by: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Binding");

export const ZBindingList = z.object({ bindings: z.array(ZBinding) }).openapi("BindingList");

export const ZBindingParams = z.object({
  id: ZUuid.openapi({ param: { name: "id", in: "path" } }),
  binding_id: ZUuid.openapi({ param: { name: "binding_id", in: "path" } }),
});

export const ZExecuteRequest = z
  .strictObject({
    binding: z.string().min(1).max(64).openapi({ description: "The binding's id, or its name (with vault_id when several vaults use the name)" }),
    vault_id: ZUuid.optional(),
    method: z.enum(BINDING_METHODS).default("GET"),
    path: ZUrlPath(2048).default("/").openapi({ description: "Request path, under the binding's path_prefix", example: "/v1/charges" }),
    query: z.record(z.string().min(1).max(128), z.string().max(4096)).default({}).refine((q) => Object.keys(q).length <= 50, "at most 50 parameters"),
    headers: z.record(ZHeaderName, ZHeaderValue).default({}).refine((h) => Object.keys(h).length <= 50, "at most 50 headers"),
    body: z.string().max(EXECUTE_REQUEST_BODY_MAX_BYTES).optional().openapi({ description: "Request body as text, at most 48 KiB" }),
  })
  .openapi("ExecuteRequest");

export const ZExecuteResponse = z
  .object({
    status: z.number().int(),
    status_text: z.string(),
    headers: z.record(z.string(), z.string()),
    body: z.string().openapi({
      description: "The answer, every known secret value replaced by [REDACTED] (in the raw bytes): UTF-8 text, or base64 when it is not text (see body_encoding)",
    }),
    body_encoding: z.enum(["utf8", "base64"]).openapi({ description: "utf8: body is the answer as text; base64: the answer was binary or not UTF-8, and body is its bytes in base64" }),
    body_truncated: z.boolean().openapi({ description: "The answer was longer than 1 MiB; body holds its first 1 MiB" }),
    redirects_followed: z.number().int(),
  })
  .openapi("ExecuteResponse");

export type BindingInject = z.infer<typeof ZBindingInject>;
export type BindingMethod = (typeof BINDING_METHODS)[number];
export type CreateBindingRequest = z.infer<typeof ZCreateBindingRequest>;
export type UpdateBindingRequest = z.infer<typeof ZUpdateBindingRequest>;
export type BindingResponse = z.infer<typeof ZBinding>;
export type ExecuteRequest = z.infer<typeof ZExecuteRequest>;
export type ExecuteRequestInput = z.input<typeof ZExecuteRequest>;
export type ExecuteResponse = z.infer<typeof ZExecuteResponse>;
export type CreateBindingInput = z.input<typeof ZCreateBindingRequest>;
