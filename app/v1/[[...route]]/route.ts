import { createApiApp } from "@/server/api/app";
import type { ApiApp } from "@/server/http/pipeline";
import { getRuntime } from "@/server/runtime";

/**
 * `next dev` (and hosts that run only Next.js) reach the API through this catch-all; `npm start`
 * sends `/v1` to the same app directly, without passing through Next.js.
 */
export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const APP_KEY = Symbol.for("talon.apiApp");
type WithApp = typeof globalThis & { [APP_KEY]?: Promise<ApiApp> };

/** One API app per process, built on the process-wide runtime (route modules may load more than once). */
function apiApp(): Promise<ApiApp> {
  const g = globalThis as WithApp;
  g[APP_KEY] ??= getRuntime().then(createApiApp);
  return g[APP_KEY];
}

async function handle(request: Request): Promise<Response> {
  return (await apiApp()).fetch(request);
}

export { handle as DELETE, handle as GET, handle as HEAD, handle as OPTIONS, handle as PATCH, handle as POST, handle as PUT };
