import { createApiApp } from "@/server/api/app";
import type { ApiApp } from "@/server/http/pipeline";
import { getRuntime } from "@/server/runtime";

/**
 * `/mcp` (hosted MCP, Streamable HTTP) for `next dev` and Next-only hosts; `npm start` sends it to
 * the API app directly. The app is the one app/v1's catch-all builds (same global key), so MCP
 * sessions and rate-limit buckets are shared.
 */
export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const APP_KEY = Symbol.for("talon.apiApp");
type WithApp = typeof globalThis & { [APP_KEY]?: Promise<ApiApp> };

function apiApp(): Promise<ApiApp> {
  const g = globalThis as WithApp;
  g[APP_KEY] ??= getRuntime().then(createApiApp);
  return g[APP_KEY];
}

async function handle(request: Request): Promise<Response> {
  return (await apiApp()).fetch(request);
}

export { handle as DELETE, handle as GET, handle as POST };
