import type { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";

/** The transport's private bookkeeping, as @modelcontextprotocol/sdk 1.x keeps it. */
type Bookkeeping = { _streamMapping?: Map<string, { resolveJson?: unknown }>; _requestToStreamMapping?: Map<unknown, string> };

/**
 * In JSON-response mode the SDK's transport (1.x, modelcontextprotocol/typescript-sdk#2559) answers a
 * request but never deletes that request's stream entry, whose resolver keeps the answered Response
 * — a tool's output, a `get_secret` value among them — alive for the whole session. After each
 * request, this drops every JSON stream no pending request points at any more (a pending request's
 * id maps to its stream until its answer is sent, so those stay). Returns how many were dropped.
 */
export function releaseSettledJsonStreams(transport: WebStandardStreamableHTTPServerTransport): number {
  const { _streamMapping: streams, _requestToStreamMapping: pending } = transport as unknown as Bookkeeping;
  if (!streams || !pending) return 0;
  const live = new Set(pending.values());
  let dropped = 0;
  for (const [id, stream] of streams) {
    if (stream.resolveJson && !live.has(id)) {
      streams.delete(id);
      dropped++;
    }
  }
  return dropped;
}
