import type { IncomingMessage, ServerResponse } from "node:http";
import { getRequestListener } from "@hono/node-server";
import type { ApiApp } from "./pipeline";

/** Paths the API app owns; everything else belongs to Next.js. */
export function isApiPath(pathname: string): boolean {
  return pathname === "/v1" || pathname.startsWith("/v1/") || pathname === "/mcp" || pathname.startsWith("/mcp/") || pathname.startsWith("/.well-known/");
}

type Listener = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/**
 * One Node request listener: API paths straight to the Hono app (the fast path), the rest to `fallback`
 * (Next.js in production; a 404 in tests). Dispatches on the normalised path so `/x/../v1/…` cannot
 * slip past the prefix check.
 */
export function createDispatcher(app: ApiApp, fallback?: Listener): Listener {
  const api = getRequestListener(app.fetch, { overrideGlobalObjects: true });
  return (req, res) => {
    let pathname: string;
    try {
      pathname = new URL(req.url ?? "/", "http://localhost").pathname;
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (isApiPath(pathname) || !fallback) return api(req, res);
    return fallback(req, res);
  };
}
