/**
 * `talon mcp` (and `talon-mcp`): the stdio MCP server, configured as the skill card shows, from
 * ONECLAW_AGENT_ID, ONECLAW_AGENT_API_KEY, ONECLAW_VAULT_ID and ONECLAW_BASE_URL. stdout carries the
 * MCP protocol only; every log line goes to stderr and never holds a value or a credential.
 */
import { readFileSync } from "node:fs";
import { createClient } from "../../../lib/sdk";
import { Redactor } from "../../../lib/mcp/redaction";
import { createTalonMcpServer } from "../../../lib/mcp/server";
import type { Command } from "../command";
import { DEFAULT_URL } from "../session";

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const REQUIRED = ["ONECLAW_AGENT_ID", "ONECLAW_AGENT_API_KEY", "ONECLAW_VAULT_ID"] as const;

const log = (line: string) => process.stderr.write(`talon-mcp: ${line}\n`);

export const MCP_HELP = [
  "talon mcp: run the MCP server over stdio (for an agent framework's mcpServers entry)",
  "",
  "Environment:",
  "  ONECLAW_AGENT_ID       the agent's id (required)",
  "  ONECLAW_AGENT_API_KEY  the agent's ocv_ key (required); exchanged for a JWT, refreshed 60 s before expiry",
  "  ONECLAW_VAULT_ID       the vault the path-based tools act in (required)",
  `  ONECLAW_BASE_URL       the Talon server (default ${DEFAULT_URL})`,
  "  TALON_CMEK_KEY_FILE    a CMEK vault's key file: values are decrypted and encrypted here (docs/cmek.md)",
  "",
  "Tools: list_secrets, get_secret, put_secret, delete_secret, describe_secret, rotate_and_store,",
  "get_env_bundle, create_vault, list_vaults, grant_access, share_secret, list_versions, rotate_generate.",
  "Logs go to stderr; stdout is the MCP protocol.",
].join("\n");

/** Runs until stdin closes. Returns the exit code: 1 when the configuration is incomplete. */
export async function runMcpStdio(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const missing = REQUIRED.filter((k) => !env[k]);
  if (missing.length) {
    log(`missing environment variable${missing.length > 1 ? "s" : ""} ${missing.join(", ")} (see talon mcp --help)`);
    return 1;
  }
  const agentId = env.ONECLAW_AGENT_ID!;
  const vaultId = env.ONECLAW_VAULT_ID!;
  if (!UUID_RE.test(agentId) || !UUID_RE.test(vaultId)) {
    log("ONECLAW_AGENT_ID and ONECLAW_VAULT_ID must be UUIDs");
    return 1;
  }
  const baseUrl = (env.ONECLAW_BASE_URL || DEFAULT_URL).replace(/\/+$/, "");
  if (!/^https?:\/\/\S+$/.test(baseUrl)) {
    log("ONECLAW_BASE_URL must start with http:// or https://");
    return 1;
  }
  const client = createClient({ baseUrl, agentId, apiKey: env.ONECLAW_AGENT_API_KEY!, headers: { "User-Agent": "talon-mcp" } });
  // Exchange the key now so a misconfiguration shows up in the log at start; the server keeps
  // running either way (tools then answer with the credentials error, telling the agent what to do).
  const first = await client.transport.bearer();
  if (first.error) log(`could not sign in as agent ${agentId} at ${baseUrl}: ${first.error.detail}`);
  let cmekKey: string | undefined;
  if (env.TALON_CMEK_KEY_FILE) {
    try {
      cmekKey = readFileSync(env.TALON_CMEK_KEY_FILE, "utf8");
    } catch (e) {
      log(`cannot read TALON_CMEK_KEY_FILE ${env.TALON_CMEK_KEY_FILE}: ${(e as NodeJS.ErrnoException).code ?? "error"}`);
      return 1;
    }
  }
  const server = await createTalonMcpServer({ client: () => client, vaultId, redactor: new Redactor(), cmekKey }, (e) =>
    log(`${e.tool} ${e.ok ? "ok" : "error"} ${e.ms}ms`),
  );
  const { StdioServerTransport } = await import("@modelcontextprotocol/sdk/server/stdio.js");
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once("end", () => resolve());
  });
  await server.connect(transport);
  log(`serving vault ${vaultId} at ${baseUrl} over stdio`);
  await closed;
  await server.close();
  return 0;
}

export const mcp: Command = {
  summary: "Run the MCP server over stdio (ONECLAW_* environment)",
  help: MCP_HELP,
  run: () => runMcpStdio(),
};
