/**
 * Which server and which credentials a command uses.
 * Server: `--url` → ONECLAW_BASE_URL → TALON_URL → the stored login's → http://localhost:3000.
 * Credentials: ONECLAW_AGENT_ID + ONECLAW_AGENT_API_KEY (an agent) → TALON_API_KEY (a `1ck_` key) →
 * the stored login (refreshed and re-saved when its access token runs out).
 */
import { type ClientOptions, createClient as createSdkClient, type TalonClient } from "../../lib/sdk";
import { paymentFlags } from "./args";
import { readCredentials, writeCredentials } from "./credentials";
import { usageError } from "./io";
import { payingFetch } from "./x402";

/** Every session's client; with --x402-key-file its fetch pays x402 402s (see ./x402). */
const createClient = (opts: ClientOptions) => createSdkClient({ ...opts, fetch: payingFetch(paymentFlags) });

export const DEFAULT_URL = "http://localhost:3000";
export type AuthSource = "agent" | "api_key" | "login" | "none";

export function resolveBaseUrl(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const url = flag ?? env.ONECLAW_BASE_URL ?? env.TALON_URL ?? readCredentials(env)?.baseUrl ?? DEFAULT_URL;
  if (!/^https?:\/\/[^\s]+$/.test(url)) throw usageError(`invalid server URL: ${url}`);
  return url.replace(/\/+$/, "");
}

const userAgent = { "User-Agent": "talon-cli" };

export function openSession(urlFlag: string | undefined, env: NodeJS.ProcessEnv = process.env): { client: TalonClient; source: AuthSource; baseUrl: string } {
  const baseUrl = resolveBaseUrl(urlFlag, env);
  if (env.ONECLAW_AGENT_ID && env.ONECLAW_AGENT_API_KEY) {
    return { client: createClient({ baseUrl, agentId: env.ONECLAW_AGENT_ID, apiKey: env.ONECLAW_AGENT_API_KEY, headers: userAgent }), source: "agent", baseUrl };
  }
  if (env.TALON_API_KEY) return { client: createClient({ baseUrl, apiKey: env.TALON_API_KEY, headers: userAgent }), source: "api_key", baseUrl };
  const stored = readCredentials(env);
  // A login belongs to the server it was made on: never send its token elsewhere.
  if (stored && stored.baseUrl.replace(/\/+$/, "") === baseUrl) {
    if (stored.api_key) return { client: createClient({ baseUrl, apiKey: stored.api_key, headers: userAgent }), source: "login", baseUrl };
    const client = createClient({
      baseUrl,
      token: stored.access_token,
      refreshToken: stored.refresh_token,
      tokenExpiresAt: stored.expires_at,
      headers: userAgent,
      onTokens: (t) =>
        writeCredentials({ ...stored, access_token: t.access_token, refresh_token: t.refresh_token ?? stored.refresh_token, expires_at: Date.now() + t.expires_in * 1000 }, env),
    });
    return { client, source: "login", baseUrl };
  }
  return { client: createClient({ baseUrl, headers: userAgent }), source: "none", baseUrl };
}
