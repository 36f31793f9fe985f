import { spawn } from "node:child_process";
import { constants } from "node:os";
import { parseEnvBundle } from "../../../lib/sdk/env-bundle";
import { parse, positionals } from "../args";
import { authedSession, type Command } from "../command";
import { CliError, unwrap, usageError } from "../io";
import { CMEK_OPTION, cmekKeyText } from "../cmek";
import { resolveVault } from "../vault-ref";

const SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"];

export const run: Command = {
  summary: "Run a command with an env_bundle secret's variables added to its environment",
  help: `Usage: talon run --vault VAULT --bundle PATH [--cmek-key-file FILE] -- COMMAND [ARGS…]

Fetches the env_bundle secret at PATH, parses its KEY=VALUE lines (blank lines and # comments
skipped), and runs COMMAND with those variables added to the current environment, stdin/stdout/
stderr inherited. Exits with COMMAND's exit code (or re-raises its signal). Prints nothing of the
values. Needs \`use\` on PATH (\`read\` implies it); audited as secret.use with purpose run. COMMAND
can see the variables: that is what injecting them means. In a CMEK vault the bundle is decrypted
here with --cmek-key-file (or TALON_CMEK_KEY_FILE).`,
  async run(argv) {
    const dash = argv.indexOf("--");
    if (dash < 0 || dash === argv.length - 1) throw usageError("missing -- COMMAND");
    const [command, ...args] = argv.slice(dash + 1);
    const { values, positionals: rest } = parse(argv.slice(0, dash), { vault: { type: "string" }, bundle: { type: "string" }, ...CMEK_OPTION });
    positionals(rest, []);
    if (!values.vault || !values.bundle) throw usageError("--vault and --bundle are required");

    const { client } = authedSession(values.url);
    const cmekKey = cmekKeyText(values["cmek-key-file"]);
    const secret = unwrap(await client.secrets.inject(await resolveVault(client, values.vault), values.bundle, { purpose: "run" }, { cmekKey }));
    if (secret.cmek_encrypted && cmekKey === undefined) throw new CliError(`${values.bundle} is encrypted with the vault's customer key: pass --cmek-key-file`);
    if (secret.type !== "env_bundle") throw new CliError(`${values.bundle} is a ${secret.type} secret, not an env_bundle`);
    const parsed = parseEnvBundle(secret.value);
    if (!parsed.ok) throw new CliError(`${values.bundle}: ${parsed.error}`);

    const child = spawn(command!, args, { stdio: "inherit", env: { ...process.env, ...parsed.vars } });
    // The child shares our terminal and gets Ctrl-C itself; forward what is sent to us alone.
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    for (const s of SIGNALS) process.on(s, forward);
    return new Promise<number>((resolve, reject) => {
      child.on("error", (e: NodeJS.ErrnoException) => reject(new CliError(`cannot run ${command}: ${e.code ?? e.message}`, e.code === "ENOENT" ? 127 : 126)));
      child.on("exit", (code, signal) => {
        for (const s of SIGNALS) process.off(s, forward);
        if (signal) {
          // Die the same way, so a caller sees the signal; the exit code is the fallback.
          process.kill(process.pid, signal);
          resolve(128 + (constants.signals[signal] ?? 0));
        } else resolve(code ?? 1);
      });
    });
  },
};
