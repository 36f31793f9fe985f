/**
 * Ready-to-paste MCP client configurations for one agent, for each way a client connects: Talon's
 * stdio server (`talon-mcp`, configured by the skill card's ONECLAW_* variables plus ONECLAW_BASE_URL)
 * and the hosted Streamable HTTP endpoint `/mcp` (Bearer `ocv_` key and X-Vault-ID). The key is the
 * real one only in the one-time key panel; elsewhere a placeholder.
 */
export type McpSnippetInput = { agentId: string; apiKey: string; vaultId: string; baseUrl: string };
export type McpSnippet = { id: string; label: string; where: string; text: string };

export const API_KEY_PLACEHOLDER = "<ocv_ agent key>";

const env = (c: McpSnippetInput) => ({
  ONECLAW_AGENT_ID: c.agentId,
  ONECLAW_AGENT_API_KEY: c.apiKey,
  ONECLAW_VAULT_ID: c.vaultId,
  ONECLAW_BASE_URL: c.baseUrl,
});
const mcpUrl = (c: McpSnippetInput) => `${c.baseUrl.replace(/\/+$/, "")}/mcp`;
const headers = (c: McpSnippetInput) => ({ Authorization: `Bearer ${c.apiKey}`, "X-Vault-ID": c.vaultId });
const json = (v: unknown) => JSON.stringify(v, null, 2);
/** Single-quoted for a POSIX shell (a key or URL never holds a quote, but the snippet must not break if one did). */
const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function mcpSnippets(c: McpSnippetInput): McpSnippet[] {
  return [
    {
      id: "claude-desktop",
      label: "Claude Desktop",
      where: "claude_desktop_config.json (stdio, talon-mcp)",
      text: json({ mcpServers: { talon: { command: "npx", args: ["-y", "talon-mcp"], env: env(c) } } }),
    },
    {
      id: "cursor",
      label: "Cursor",
      where: ".cursor/mcp.json (hosted /mcp over HTTP)",
      text: json({ mcpServers: { talon: { url: mcpUrl(c), headers: headers(c) } } }),
    },
    {
      id: "claude-code",
      label: "Claude Code",
      where: "A terminal in your project (hosted /mcp over HTTP)",
      text: `claude mcp add --transport http talon ${sh(mcpUrl(c))} \\\n  --header ${sh(`Authorization: Bearer ${c.apiKey}`)} \\\n  --header ${sh(`X-Vault-ID: ${c.vaultId}`)}`,
    },
    {
      id: "hosted",
      label: "Hosted HTTP",
      where: "Any client speaking MCP Streamable HTTP",
      text: `URL: ${mcpUrl(c)}\nHeaders:\n  Authorization: Bearer ${c.apiKey}\n  X-Vault-ID: ${c.vaultId}`,
    },
    {
      id: "stdio",
      label: "stdio (talon-mcp)",
      where: "Any client that starts a local MCP server",
      text: `${Object.entries(env(c))
        .map(([k, v]) => `${k}=${sh(v)}`)
        .join(" \\\n")} \\\nnpx -y talon-mcp`,
    },
  ];
}
