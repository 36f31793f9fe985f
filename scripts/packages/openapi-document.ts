/**
 * The OpenAPI document the talon-openapi package ships: the API app's own document, built the way
 * `GET /v1/openapi.json` builds it, with the default server address in place of a running server's.
 * Building the app needs only a parsed configuration (no database, no HSM: nothing connects until a
 * request arrives).
 */
import { createApiApp } from "../../server/api/app";
import { buildOpenApiDocument, openApiYaml } from "../../server/api/openapi";
import { loadConfig } from "../../server/config";
import type { Runtime } from "../../server/runtime";

export const PUBLISHED_SERVER = { url: "http://localhost:3000", description: "A Talon server at its default address; use your TALON_PUBLIC_URL" };

export function publishedOpenApiDocument(): { json: string; yaml: string } {
  // The routes read only `rt.config` while the app is assembled; the rest of the runtime is per request.
  const rt = { config: loadConfig({}) } as Runtime;
  const doc = buildOpenApiDocument(createApiApp(rt), [PUBLISHED_SERVER]);
  return { json: `${JSON.stringify(doc, null, 2)}\n`, yaml: openApiYaml(doc) };
}
