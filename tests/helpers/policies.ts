import { randomUUID } from "node:crypto";
import { client } from "./http";
import type { TestServer } from "./server";

/** Rate limits off: these suites send a few hundred requests from 127.0.0.1 within a minute. */
export const NO_RATE_LIMITS = { TALON_RATE_LIMIT_IP_PER_MINUTE: "0", TALON_RATE_LIMIT_PRINCIPAL_PER_MINUTE: "0", TALON_RATE_LIMIT_AUTH_PER_MINUTE: "0" };

/**
 * A human of an existing org with the given role, inserted directly (org invitations are another
 * suite's subject) and signed in with a real user JWT from the server's TokenService.
 */
export async function addOrgUser(server: TestServer, orgId: string, role: "owner" | "admin" | "member") {
  const userId = randomUUID();
  await server.rt.db.user.create({
    data: { id: userId, orgId, email: `${role}-${userId.slice(0, 8)}@example.test`, passwordHash: "!unusable", role, emailVerifiedAt: new Date() },
  });
  const { token } = await server.rt.tokens.issueUserToken({ id: userId, orgId, tokenVersion: 0 });
  return { userId, token, api: client(server.url, token) };
}

export type AgentOptions = { scopes?: string[]; vaultIds?: string[]; cryptoProxyEnabled?: boolean };

/**
 * An agent registered through the real API by the human holding `creatorToken`, signed in the way
 * agents sign in: its `ocv_` key exchanged at POST /v1/auth/agent-token for a JWT.
 */
export async function addAgent(server: TestServer, creatorToken: string, opts: AgentOptions = {}) {
  const human = client(server.url, creatorToken);
  const created = await human.post("/v1/agents", {
    name: `agent-${randomUUID().slice(0, 8)}`,
    ...(opts.scopes ? { scopes: opts.scopes } : {}),
    ...(opts.vaultIds ? { vault_ids: opts.vaultIds } : {}),
    ...(opts.cryptoProxyEnabled ? { crypto_proxy_enabled: true } : {}),
  });
  if (created.status !== 201) throw new Error(`agent registration failed: ${created.status} ${created.text}`);
  const agentId = created.body.agent.id as string;
  const exchanged = await client(server.url).post("/v1/auth/agent-token", { agent_id: agentId, api_key: created.body.api_key });
  if (exchanged.status !== 200) throw new Error(`agent-token failed: ${exchanged.status} ${exchanged.text}`);
  const token = exchanged.body.access_token as string;
  return { agentId, token, api: client(server.url, token) };
}

/** Grants (or denies) through the real API as `granter`; returns the created policy. */
export async function grant(
  granter: ReturnType<typeof client>,
  vaultId: string,
  body: Record<string, unknown>,
): Promise<{ id: string } & Record<string, unknown>> {
  const res = await granter.post(`/v1/vaults/${vaultId}/policies`, body);
  if (res.status !== 201) throw new Error(`grant failed: ${res.status} ${res.text}`);
  return res.body;
}

/** HH:MM in UTC, `offsetMinutes` from now (wrapping around midnight). */
export function utcClock(offsetMinutes: number, now = new Date()): string {
  const m = (((now.getUTCHours() * 60 + now.getUTCMinutes() + offsetMinutes) % 1440) + 1440) % 1440;
  return `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
}

/** A problem body without its per-request id, for byte-for-byte comparisons of two answers. */
export function withoutRequestId(text: string): string {
  const body = JSON.parse(text) as Record<string, unknown>;
  delete body.request_id;
  return JSON.stringify(body);
}
