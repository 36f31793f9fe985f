/**
 * `talon`: the command table and the one place that turns errors into a stderr line and an exit
 * code (0 ok, 1 API error, 2 usage). Another command plugs in with one line in COMMANDS.
 */
import { agents } from "./commands/agents";
import { login, logout } from "./commands/login";
import { mcp } from "./commands/mcp";
import { run } from "./commands/run";
import { secrets } from "./commands/secrets";
import { tx } from "./commands/tx";
import { vaults } from "./commands/vaults";
import type { Command } from "./command";
import { CliError, EXIT_API, EXIT_USAGE } from "./io";

declare const TALON_CLI_VERSION: string | undefined;

export const COMMANDS: Record<string, Command> = {
  login,
  logout,
  vaults,
  secrets,
  agents,
  tx,
  run,
  mcp,
};

function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  return [
    "talon: the Talon secrets manager from the command line",
    "",
    "Usage: talon <command> [options]   (talon <command> --help for details)",
    "",
    "Commands:",
    ...Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(width)}  ${c.summary}`),
    "",
    "Server: --url URL, else ONECLAW_BASE_URL, TALON_URL, the stored login's server, http://localhost:3000.",
    "Credentials: ONECLAW_AGENT_ID + ONECLAW_AGENT_API_KEY (an agent), else TALON_API_KEY (a 1ck_ key),",
    "else the token stored by `talon login`.",
    "Output: --json on any command prints machine-readable JSON.",
    "Past the quota: --x402-key-file FILE --x402-max-amount N pays each request the server asks x402 for",
    "(a payer key in FILE; N caps one request's price in the asset's atomic units).",
    "Exit codes: 0 ok, 1 API error, 2 usage error.",
  ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined || name === "--help" || name === "-h" || name === "help") {
      process.stdout.write(`${mainHelp()}\n`);
      return name === undefined ? EXIT_USAGE : 0;
    }
    if (name === "--version" || name === "-V") {
      process.stdout.write(`${typeof TALON_CLI_VERSION === "string" ? TALON_CLI_VERSION : "dev"}\n`);
      return 0;
    }
    const cmd = COMMANDS[name];
    if (!cmd) throw new CliError(`unknown command: ${name} (see talon --help)`, EXIT_USAGE);
    if (cmd.help && (rest[0] === "--help" || rest[0] === "-h")) {
      process.stdout.write(`${cmd.help}\n`);
      return 0;
    }
    return (await cmd.run(rest)) ?? 0;
  } catch (e) {
    if (e instanceof CliError) {
      process.stderr.write(`talon: ${e.message}\n`);
      return e.code;
    }
    // Not ours: report the kind only; a message could quote input.
    process.stderr.write(`talon: unexpected ${e instanceof Error ? e.name : "error"}\n`);
    return EXIT_API;
  }
}
