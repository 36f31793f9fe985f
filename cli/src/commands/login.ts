import { parse, positionals } from "../args";
import type { Command } from "../command";
import { credentialsPath, readCredentials, removeCredentials, writeCredentials } from "../credentials";
import { CliError, out, printJson, promptHidden, readStdin, unwrap, usageError, warn } from "../io";
import { openSession, resolveBaseUrl } from "../session";
import { createClient } from "../../../lib/sdk";

const LOGIN_HELP = `Usage:
  talon login --email EMAIL [--url URL]
      Password from TALON_PASSWORD, else a prompt (not echoed). With MFA on, the code comes from
      TALON_MFA_CODE or a prompt.
  talon login --api-key-stdin [--url URL]      (reads a 1ck_ key from stdin)
  talon login --api-key 1ck_… [--url URL]      (visible in ps: prefer --api-key-stdin)

Stores the server URL and a token in $XDG_CONFIG_HOME/talon/credentials.json (default
~/.config/talon), readable only by you (0600).`;

export const login: Command = {
  summary: "Sign in as a human (email + password, or a 1ck_ API key) and store the token",
  help: LOGIN_HELP,
  async run(argv) {
    const { values, positionals: rest } = parse(argv, { email: { type: "string" }, "api-key": { type: "string" }, "api-key-stdin": { type: "boolean" } });
    positionals(rest, []);
    const baseUrl = resolveBaseUrl(values.url);
    const client = createClient({ baseUrl, headers: { "User-Agent": "talon-cli" } });

    if (values["api-key"] !== undefined || values["api-key-stdin"]) {
      if (values.email) throw usageError("use --email or an API key, not both");
      if (values["api-key"] !== undefined) warn("warning: --api-key puts the key in your shell history and process list; prefer --api-key-stdin");
      const apiKey = (values["api-key"] ?? (await readStdin())).trim();
      if (!apiKey.startsWith("1ck_")) throw usageError("expected a personal API key starting with 1ck_");
      const me = unwrap(await createClient({ baseUrl, apiKey }).auth.me());
      const file = writeCredentials({ baseUrl, api_key: apiKey, email: me.email });
      return report(values.json, { baseUrl, email: me.email, credentials: file });
    }

    if (!values.email) throw usageError("--email or --api-key-stdin is required");
    // Not a flag: argv is visible to every local user. TALON_PASSWORD is for scripts.
    const password = process.env.TALON_PASSWORD ?? (await promptHidden("Password: "));
    let result = unwrap(await client.auth.login({ email: values.email, password }));
    if ("mfa_required" in result) {
      const code = process.env.TALON_MFA_CODE ?? (await promptHidden("MFA code: "));
      result = unwrap(await client.auth.mfaVerify({ mfa_token: result.mfa_token, code }));
    }
    const file = writeCredentials({
      baseUrl,
      email: values.email,
      access_token: result.access_token,
      refresh_token: result.refresh_token,
      expires_at: Date.now() + result.expires_in * 1000,
    });
    return report(values.json, { baseUrl, email: values.email, credentials: file });
  },
};

function report(json: boolean | undefined, r: { baseUrl: string; email: string; credentials: string }) {
  if (json) printJson(r);
  else out(`Logged in to ${r.baseUrl} as ${r.email}`);
  return 0;
}

export const logout: Command = {
  summary: "Revoke the stored login's token and delete the credentials file",
  help: "Usage: talon logout\n\nRevokes the stored token on the server (an API key login is only forgotten, not revoked) and\ndeletes the credentials file.",
  async run(argv) {
    const { values, positionals: rest } = parse(argv, {});
    positionals(rest, []);
    const stored = readCredentials();
    if (!stored) throw new CliError(`not logged in (no ${credentialsPath()})`);
    if (stored.access_token) {
      const { client } = openSession(stored.baseUrl, { ...process.env, ONECLAW_AGENT_ID: "", TALON_API_KEY: "" });
      const r = await client.auth.logout();
      // An expired or already revoked token is as good as logged out.
      if (r.error && r.meta.status !== 401) warn(`the server did not confirm the revocation: ${r.error.detail}`);
    }
    removeCredentials();
    if (values.json) printJson({ logged_out: true });
    else out(`Logged out of ${stored.baseUrl}`);
    return 0;
  },
};
