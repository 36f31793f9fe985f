import type { ApiApp } from "../http/pipeline";
import { getRuntime } from "../runtime";
import { createApiApp } from "./app";

const APP_KEY = Symbol.for("talon.apiApp");
type WithApp = typeof globalThis & { [APP_KEY]?: Promise<ApiApp> };

/** One API app per process, built on the process-wide runtime (Next may load route modules more than once). */
function apiApp(): Promise<ApiApp> {
  const g = globalThis as WithApp;
  g[APP_KEY] ??= getRuntime().then(createApiApp);
  return g[APP_KEY];
}

/**
 * For Next.js route handlers (`next dev`, Next-only hosts): hands the request to the same API app that
 * `npm start` serves directly, so `/v1`, `/mcp` and `/.well-known` behave the same either way.
 */
export async function handleWithApiApp(request: Request): Promise<Response> {
  return (await apiApp()).fetch(request);
}
