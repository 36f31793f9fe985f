import { handleWithApiApp as handle } from "@/server/api/next-bridge";

/**
 * `/mcp` (hosted MCP, Streamable HTTP) for `next dev` and Next-only hosts; `npm start` sends it to
 * the API app directly. It is the same app instance as app/v1's, so MCP sessions and rate-limit
 * buckets are shared.
 */
export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export { handle as DELETE, handle as GET, handle as POST };
