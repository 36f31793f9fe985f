import { openSession } from "./session";
import { CliError } from "./io";

export type Command = {
  /** One line for `talon --help`. */
  summary: string;
  /** Full help text for `talon <command> --help`. */
  help: string;
  /** Returns the exit code (default 0). */
  run(argv: string[]): Promise<number | void>;
};

/** A session that holds credentials; otherwise a one-line hint at how to get some. */
export function authedSession(urlFlag: string | undefined) {
  const s = openSession(urlFlag);
  if (s.source === "none") {
    throw new CliError(`not logged in to ${s.baseUrl}: run \`talon login\`, or set ONECLAW_AGENT_ID + ONECLAW_AGENT_API_KEY, or TALON_API_KEY`);
  }
  return s;
}

/** `talon <group> <sub> …`: dispatches to a subcommand, with help for the group and each sub. */
export function group(name: string, summary: string, subs: Record<string, { usage: string; summary: string; run(argv: string[]): Promise<number | void> }>): Command {
  const help = [
    `talon ${name}: ${summary}`,
    "",
    "Usage:",
    ...Object.values(subs).map((s) => `  talon ${name} ${s.usage}\n      ${s.summary}`),
    "",
    "Options for every subcommand: --json (machine-readable output), --url URL (server), -h/--help",
  ].join("\n");
  return {
    summary,
    help,
    async run(argv) {
      const [sub, ...rest] = argv;
      if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
        process.stdout.write(`${help}\n`);
        return sub === undefined ? 2 : 0;
      }
      const cmd = subs[sub];
      if (!cmd) throw new CliError(`unknown subcommand: ${name} ${sub} (see talon ${name} --help)`, 2);
      if (rest.includes("--help") || rest.includes("-h")) {
        process.stdout.write(`Usage: talon ${name} ${cmd.usage}\n\n${cmd.summary}\n`);
        return 0;
      }
      return cmd.run(rest);
    },
  };
}
