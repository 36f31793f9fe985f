/**
 * Bench rows for the crypto proxy: an agent with crypto_proxy_enabled and Hardhat's funded account #1
 * as its `private_key` signer (a public test key), on the local chain that run.ts starts. `simulate`
 * and `submit` are then driven like any other row; every submit is signed, nonce-reserved and
 * broadcast to the node (which mines every 100 ms).
 */
import { api } from "../talon-process";

const TEST_SIGNER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
export const BENCH_RECIPIENT = "0x976EA74026E726554dB657fA54763abd0C3a0aa9";

export async function setupCryptoProxyAgent(baseUrl: string, humanToken: string, vaultId: string): Promise<{ agentId: string; token: string }> {
  const expect = (what: string, r: { status: number; body: unknown }, status: number) => {
    if (r.status !== status) throw new Error(`${what} answered ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body as Record<string, unknown>;
  };
  expect("storing the signer", await api(baseUrl, "PUT", `/v1/vaults/${vaultId}/secrets/keys/localhost-signer`, { value: TEST_SIGNER_KEY, type: "private_key" }, humanToken), 201);
  const created = expect("registering the agent", await api(baseUrl, "POST", "/v1/agents", { name: "bench-crypto", crypto_proxy_enabled: true }, humanToken), 201);
  const agentId = String((created.agent as { id: string }).id);
  const policy = { principal_type: "agent", principal_id: agentId, secret_path_pattern: "keys/**", permissions: ["read"] };
  expect("granting the agent", await api(baseUrl, "POST", `/v1/vaults/${vaultId}/policies`, policy, humanToken), 201);
  const exchanged = expect("agent-token", await api(baseUrl, "POST", "/v1/auth/agent-token", { agent_id: agentId, api_key: created.api_key }), 200);
  return { agentId, token: String(exchanged.access_token) };
}
