import { z } from "@hono/zod-openapi";
import { ZUuid } from "./common";

/**
 * The hosted MCP endpoint (`/mcp`, Streamable HTTP) as the OpenAPI document describes it. The bodies
 * are JSON-RPC 2.0 messages whose methods and tool schemas the MCP tool list describes (`tools/list`);
 * the MCP SDK's transport parses them, so these schemas document the envelope only.
 */
const ZJsonRpcId = z.union([z.string().max(200), z.number().int()]);

export const ZMcpMessage = z
  .object({
    jsonrpc: z.literal("2.0"),
    id: ZJsonRpcId.optional().openapi({ description: "Absent for a notification (answered 202 without a body)" }),
    method: z.string().max(200).optional().openapi({ example: "tools/call" }),
    params: z.record(z.string(), z.unknown()).optional(),
    result: z.unknown().optional(),
    error: z.unknown().optional(),
  })
  .strict()
  .openapi("McpMessage", { description: "A JSON-RPC 2.0 request, notification or response" });

export const ZMcpRequestBody = z.union([ZMcpMessage, z.array(ZMcpMessage).max(100)]).openapi("McpRequestBody");

export const ZMcpResponse = z
  .object({ jsonrpc: z.literal("2.0"), id: ZJsonRpcId.nullable(), result: z.unknown().optional(), error: z.unknown().optional() })
  .strict()
  .openapi("McpResponse", { description: "The JSON-RPC response (`result` or `error`)" });

export const ZJsonRpcError = z
  .object({
    jsonrpc: z.literal("2.0"),
    id: ZJsonRpcId.nullable(),
    error: z.object({ code: z.number().int(), message: z.string().max(1000), data: z.unknown().optional() }).strict(),
  })
  .strict()
  .openapi("JsonRpcError", { description: "A protocol error reported by the MCP transport (malformed JSON-RPC, wrong Accept or Content-Type)" });

export const ZMcpHeaders = z.object({
  "X-Vault-ID": ZUuid.openapi({ param: { name: "X-Vault-ID", in: "header" }, description: "The vault this MCP session acts in (one of the agent's vaults)" }),
  "Mcp-Session-Id": z
    .string()
    .max(100)
    .optional()
    .openapi({ param: { name: "Mcp-Session-Id", in: "header" }, description: "The session id the `initialize` response carried; absent only on `initialize`" }),
});
