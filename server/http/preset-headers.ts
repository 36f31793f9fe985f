import { ServerResponse } from "node:http";
import type { Context } from "hono";
import type { ApiEnv } from "./env";

/**
 * Headers for whatever response this request gets (success or error), set before the handler runs;
 * a handler's own header of the same name wins. On a request from the network they go on the Node
 * response, whose writeHead merges them under the handler's headers: c.json() then answers from a plain
 * object, without a web `Headers` built, filled and copied out per request (≈ 3 % of a `GET /v1/health`'s
 * CPU, ≈ 1 % of a secret read's, by perf), and a raw Response a handler returns (hosted MCP) carries them
 * too. A request made in process (`app.request`, whose env has no Node response) has only Hono's
 * response, so they are prepared there. Either way c.res is not touched: that would turn
 * @hono/node-server's light response into a full one. `also` is one more header set first (the
 * request id, beside the fixed list), so a request makes one call.
 */
export function presetHeaders(c: Context<ApiEnv>, headers: Iterable<readonly [string, string]>, also?: readonly [string, string]): void {
  const outgoing = c.env?.outgoing;
  if (outgoing instanceof ServerResponse && !outgoing.headersSent) {
    if (also) outgoing.setHeader(also[0], also[1]);
    for (const [name, value] of headers) outgoing.setHeader(name, value);
  } else {
    if (also) c.header(also[0], also[1]);
    for (const [name, value] of headers) c.header(name, value);
  }
}
