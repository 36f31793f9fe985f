import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { stringify as stringifyYaml } from "yaml";
import { ZProblem } from "../../lib/contract/common";
import type { ApiApp, ApiEnv } from "../http/pipeline";
import { TALON_VERSION } from "../version";

export const OPENAPI_PATH = "/v1/openapi.json";
/** The same document at the root, where 1Claw's clients and generic OpenAPI tools look for it. */
export const OPENAPI_ROOT_JSON_PATH = "/openapi.json";
export const OPENAPI_ROOT_YAML_PATH = "/openapi.yaml";

type Operation = { operationId?: string; security?: Array<Record<string, string[]>>; responses?: Record<string, unknown> };
type OpenApiDocument = { paths?: Record<string, Record<string, Operation>>; [k: string]: unknown };

const HTTP_METHODS = new Set(["get", "put", "post", "delete", "patch", "head", "options", "trace"]);

/**
 * Hono route patterns carry their matcher in the key (`{path{.+}}`, `{version{[0-9]+}}`); OpenAPI wants
 * the bare name. The parameter's own description says it may contain `/`.
 */
export const openApiPathKey = (honoOpenApiPath: string) => honoOpenApiPath.replace(/\{(\w+)\{[^}]*\}\}/g, "{$1}");

/**
 * A stable operationId for routes that don't name one, e.g. `GET /v1/vaults/{id}/secrets/{path}` →
 * `getVaultsByIdSecretsByPath`; code generators name their methods after it.
 */
export function defaultOperationId(method: string, path: string): string {
  const words = path
    .split("/")
    .filter((seg) => seg && seg !== "v1")
    .flatMap((seg) => {
      const param = /^\{(\w+)\}$/.exec(seg);
      return param ? ["by", ...param[1]!.split("_")] : seg.split(/[^a-zA-Z0-9]+/);
    })
    .filter(Boolean);
  return method + words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join("");
}

const BEARER_DESCRIPTION = [
  "`Authorization: Bearer <token>` where the token is one of:",
  "- a JWT from `POST /v1/auth/token` (a user) or `POST /v1/auth/agent-token` (an agent);",
  "- a personal API key `1ck_…` (used directly, no exchange needed);",
  "- an agent API key `ocv_…` (used directly, or exchanged for a JWT at `POST /v1/auth/agent-token`).",
].join("\n");

/**
 * Builds the OpenAPI 3.1 document from the routes registered with `createRoute` (after
 * `registerOpenApiRoute` has added the bearer scheme): the same zod schemas
 * that validate requests. Operations that don't declare `security` need the bearer scheme; public
 * routes declare `security: []`. Every operation also gets a `default` problem response, because any
 * route can answer 500 (or a pipeline error) with an RFC 7807 body.
 */
export function buildOpenApiDocument(app: ApiApp, servers: Array<{ url: string; description?: string }>): OpenApiDocument {
  const doc = app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: {
      title: "Talon API",
      version: TALON_VERSION,
      description: "Self-hostable, HSM-backed secrets manager for AI agents. Errors are RFC 7807 `application/problem+json` bodies.",
    },
    servers,
    security: [{ bearerAuth: [] }],
  }) as unknown as OpenApiDocument;

  const paths: Record<string, Record<string, Operation>> = {};
  for (const [key, item] of Object.entries(doc.paths ?? {})) {
    const rewritten = openApiPathKey(key);
    paths[rewritten] = { ...paths[rewritten], ...item };
    for (const [method, op] of Object.entries(item)) {
      if (!HTTP_METHODS.has(method)) continue;
      op.operationId ??= defaultOperationId(method, rewritten);
      op.security ??= [{ bearerAuth: [] }];
      op.responses = {
        ...op.responses,
        default: { description: "Any other error (e.g. 500, 429)", content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } } },
      };
    }
  }
  doc.paths = paths;
  return doc;
}

/** The YAML spelling served at /openapi.yaml and shipped in talon-openapi: no anchors, no folded lines. */
export const openApiYaml = (doc: object) => stringifyYaml(doc, { aliasDuplicateObjects: false, lineWidth: 0 });

const ZOpenApiDocument = z
  .looseObject({ openapi: z.literal("3.1.0"), info: z.looseObject({ title: z.string(), version: z.string() }), paths: z.record(z.string(), z.unknown()) })
  .openapi("OpenApiDocument", { description: "This document" });

const documentRoute = (path: string, mediaType: string, operationId?: string) =>
  createRoute({
    method: "get",
    path,
    operationId,
    tags: ["Health"],
    summary: path === OPENAPI_PATH ? "This API's OpenAPI 3.1 document" : `This API's OpenAPI 3.1 document, as ${mediaType === "application/yaml" ? "YAML" : "JSON"} at the root`,
    security: [],
    responses: { 200: { description: "The OpenAPI document (cacheable for 5 minutes)", content: { [mediaType]: { schema: ZOpenApiDocument } } } },
  });

/**
 * `GET /v1/openapi.json`, `/openapi.json` and `/openapi.yaml`. Register them after every other route:
 * the document is built on first request from what the app holds then, and cached. It describes
 * itself too; the handlers are plain (the body is already JSON or YAML text).
 */
export function registerOpenApiRoute(app: ApiApp) {
  // `Problem` is referenced by the default responses even if no route declared an error yet.
  app.openAPIRegistry.register("Problem", ZProblem);
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT, 1ck_ or ocv_ key",
    description: BEARER_DESCRIPTION,
  });
  app.openAPIRegistry.registerPath(documentRoute(OPENAPI_PATH, "application/json"));
  app.openAPIRegistry.registerPath(documentRoute(OPENAPI_ROOT_JSON_PATH, "application/json", "getRootOpenapiJson"));
  app.openAPIRegistry.registerPath(documentRoute(OPENAPI_ROOT_YAML_PATH, "application/yaml", "getRootOpenapiYaml"));
  let doc: OpenApiDocument | null = null;
  let json: string | null = null;
  let yaml: string | null = null;
  const document = (c: Context<ApiEnv>) => (doc ??= buildOpenApiDocument(app, [{ url: c.get("rt").config.publicUrl, description: "This Talon server" }]));
  const cacheable = { "Cache-Control": "public, max-age=300" };
  const serveJson = (c: Context<ApiEnv>) => c.body((json ??= JSON.stringify(document(c))), 200, { "Content-Type": "application/json", ...cacheable });
  app.get(OPENAPI_PATH, serveJson);
  app.get(OPENAPI_ROOT_JSON_PATH, serveJson);
  app.get(OPENAPI_ROOT_YAML_PATH, (c) => c.body((yaml ??= openApiYaml(document(c))), 200, { "Content-Type": "application/yaml; charset=utf-8", ...cacheable }));
}
