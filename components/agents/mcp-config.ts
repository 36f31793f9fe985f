/**
 * The `mcpServers` entry of the skill card's "Option 1", plus ONECLAW_BASE_URL pointing at this
 * Talon server: the only change an agent configured for the card needs.
 */
export function mcpConfigJson(c: { agentId: string; apiKey: string; vaultId: string; baseUrl: string }): string {
  const config = {
    mcpServers: {
      "1claw": {
        command: "npx",
        args: ["-y", "@1claw/mcp"],
        env: {
          ONECLAW_AGENT_ID: c.agentId,
          ONECLAW_AGENT_API_KEY: c.apiKey,
          ONECLAW_VAULT_ID: c.vaultId,
          ONECLAW_BASE_URL: c.baseUrl,
        },
      },
    },
  };
  return JSON.stringify(config, null, 2);
}

export const VAULT_PLACEHOLDER = "<vault-uuid>";
