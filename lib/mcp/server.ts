/**
 * Builds the MCP server both transports serve: every tool of lib/mcp/tools.ts registered with its
 * zod input, each result passed through the session's redaction. Tool failures are `isError`
 * results carrying the agent-facing text, never exceptions (an exception's message could quote
 * input).
 */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { errorText } from "./errors";
import { TOOLS, type ToolContext, type ToolOutcome } from "./tools";

export const MCP_SERVER_NAME = "talon";
export const MCP_SERVER_VERSION = "0.1.0";
export const SECRETS_RESOURCE_URI = "vault://secrets";

export type ToolLogger = (event: { tool: string; ok: boolean; ms: number }) => void;

export function toCallToolResult(ctx: ToolContext, outcome: ToolOutcome): CallToolResult {
  if ("error" in outcome) return { isError: true, content: [{ type: "text", text: ctx.redactor.text(outcome.error) }] };
  const data = outcome.preRedacted ? outcome.data : ctx.redactor.deep(outcome.data);
  const structured = data !== null && typeof data === "object" && !Array.isArray(data) ? (data as Record<string, unknown>) : { result: data };
  return { content: [{ type: "text", text: JSON.stringify(data, null, 2) }], structuredContent: structured };
}

/**
 * Async because the MCP SDK is imported on first use: the `talon` CLI bundle holds this module, and
 * loading the SDK (~0.5 s) must not slow down every other command.
 */
export async function createTalonMcpServer(ctx: ToolContext, onToolCall?: ToolLogger): Promise<McpServer> {
  const { McpServer } = await import("@modelcontextprotocol/sdk/server/mcp.js");
  const server = new McpServer(
    { name: MCP_SERVER_NAME, version: MCP_SERVER_VERSION },
    {
      instructions:
        "Talon secrets vault. Fetch a secret with get_secret only right before the call that needs it; never repeat, store or summarise a value. " +
        "Values fetched in this session are shown as [REDACTED] in every other tool's output.",
    },
  );
  for (const def of TOOLS) {
    server.registerTool(
      def.name,
      {
        description: def.description,
        inputSchema: def.inputSchema,
        annotations: { readOnlyHint: def.readOnly, destructiveHint: def.destructive ?? false, openWorldHint: false },
      },
      async (args: unknown) => {
        const started = Date.now();
        let outcome: ToolOutcome;
        try {
          outcome = await def.run(ctx, args as never);
        } catch (e) {
          // Only programmer errors throw (the SDK returns HTTP failures as values): name the kind only.
          outcome = { error: `Internal error in ${def.name} (${e instanceof Error ? e.name : "unknown"}); try again or tell the user.` };
        }
        onToolCall?.({ tool: def.name, ok: !("error" in outcome), ms: Date.now() - started });
        return toCallToolResult(ctx, outcome);
      },
    );
  }
  server.registerResource(
    "secrets",
    SECRETS_RESOURCE_URI,
    { description: "The secrets in this session's vault: paths, ids, types and versions — never values.", mimeType: "application/json" },
    async (uri) => {
      const r = await ctx.client().secrets.list(ctx.vaultId);
      // A failed read is a protocol error carrying the same agent-facing text a tool would give.
      if (r.error) throw new Error(ctx.redactor.text(errorText(r.error, r.meta, "vault")));
      return { contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify(ctx.redactor.deep(r.data), null, 2) }] };
    },
  );
  return server;
}
