import { handleWithApiApp as handle } from "@/server/api/next-bridge";

/**
 * `next dev` (and hosts that run only Next.js) reach the API through this catch-all; `npm start`
 * sends `/v1` to the same app directly, without passing through Next.js.
 */
export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export { handle as DELETE, handle as GET, handle as HEAD, handle as OPTIONS, handle as PATCH, handle as POST, handle as PUT };
