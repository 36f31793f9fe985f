import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { addAgent, addOrgUser, NO_RATE_LIMITS } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * Issue 16: agents carry `ecdh_public_key` (X25519, base64) in every agent response; the private half
 * is in the org's system vault beside the SSH key, readable by the agent itself (via
 * `ecdh_key_location` on /v1/agents/me) and org owners and admins only. Agents registered before the
 * key existed get one when first read, exactly one even when read concurrently.
 */
let server: TestServer;
let owner: Awaited<ReturnType<typeof signUpVerified>>;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  server = await startTestServer({ env: NO_RATE_LIMITS });
  owner = await signUpVerified(server);
  api = client(server.url, owner.token);
});
afterAll(async () => {
  await server?.close();
});

const rawX25519 = (b64: string) => {
  const raw = Buffer.from(b64, "base64");
  expect(raw).toHaveLength(32);
  expect(raw.toString("base64")).toBe(b64);
  return raw;
};
/** The public key a PKCS#8 X25519 private key belongs to, as base64 of the raw 32 bytes. */
const publicOf = (pem: string) => Buffer.from(createPublicKey(createPrivateKey(pem)).export({ format: "jwk" }).x!, "base64url").toString("base64");

describe("ecdh_public_key", () => {
  it("is generated at registration and the same in every agent response; the agent reads its private half and can agree a key with it", async () => {
    const created = await api.post("/v1/agents", { name: "ecdh-agent" });
    expect(created.status).toBe(201);
    const pub = created.body.agent.ecdh_public_key as string;
    rawX25519(pub);
    expect((await api.get(`/v1/agents/${created.body.agent.id}`)).body.ecdh_public_key).toBe(pub);
    expect((await api.get("/v1/agents")).body.agents.find((a: { id: string }) => a.id === created.body.agent.id).ecdh_public_key).toBe(pub);

    const token = (await client(server.url).post("/v1/auth/agent-token", { agent_id: created.body.agent.id, api_key: created.body.api_key })).body.access_token;
    const agent = client(server.url, token);
    const me = await agent.get("/v1/agents/me");
    expect(me.body.ecdh_public_key).toBe(pub);
    expect(me.body.ecdh_key_location).toEqual({ vault_id: me.body.ssh_key_location.vault_id, path: `agents/${created.body.agent.id}/ecdh` });
    const own = await agent.get(`/v1/vaults/${me.body.ecdh_key_location.vault_id}/secrets/${me.body.ecdh_key_location.path}`);
    expect(own.status).toBe(200);
    expect(own.body.type).toBe("private_key");
    expect(publicOf(own.body.value)).toBe(pub);

    // A peer encrypting to the agent and the agent itself arrive at the same shared secret.
    const peer = generateKeyPairSync("x25519");
    const agentPublic = createPublicKey({ key: { kty: "OKP", crv: "X25519", x: Buffer.from(pub, "base64").toString("base64url") }, format: "jwk" });
    const peerSide = diffieHellman({ privateKey: peer.privateKey, publicKey: agentPublic });
    const agentSide = diffieHellman({ privateKey: createPrivateKey(own.body.value), publicKey: peer.publicKey });
    expect(agentSide.equals(peerSide)).toBe(true);

    // The private key is in no agent response and no audit event.
    const audit = await server.rt.db.auditEvent.findMany({ where: { orgId: owner.orgId } });
    expect(JSON.stringify(audit)).not.toContain(own.body.value.split("\n")[1]);
    expect(created.text + me.text).not.toContain("PRIVATE KEY");
  });

  it("is readable only under the SSH key's rule: the agent itself and owners/admins; not other agents, members, crypto-proxy agents or other orgs", async () => {
    const target = await addAgent(server, owner.token);
    const me = (await target.api.get("/v1/agents/me")).body;
    const url = `/v1/vaults/${me.ecdh_key_location.vault_id}/secrets/${me.ecdh_key_location.path}`;
    expect((await target.api.get(url)).status).toBe(200);
    expect((await api.get(url)).status).toBe(200);
    expect((await (await addOrgUser(server, owner.orgId, "admin")).api.get(url)).status).toBe(200);

    expect((await (await addOrgUser(server, owner.orgId, "member")).api.get(url)).status).toBe(403);
    expect((await (await addAgent(server, owner.token)).api.get(url)).status).toBe(403);
    const proxy = await addAgent(server, owner.token, { cryptoProxyEnabled: true });
    const proxyMe = (await proxy.api.get("/v1/agents/me")).body;
    expect((await proxy.api.get(`/v1/vaults/${proxyMe.ecdh_key_location.vault_id}/secrets/${proxyMe.ecdh_key_location.path}`)).status).toBe(403);
    const stranger = await signUpVerified(server);
    expect((await client(server.url, stranger.token).get(url)).status).toBe(404);
    // Nobody writes it: Talon alone stores it.
    expect((await api.put(url, { value: "replaced", type: "private_key" })).status).toBe(403);
  });

  it("an agent registered before the key existed gets exactly one on first read, even read concurrently", async () => {
    const legacy = await addAgent(server, owner.token);
    const me = (await legacy.api.get("/v1/agents/me")).body;
    await server.rt.db.agent.update({ where: { id: legacy.agentId }, data: { ecdhPublicKey: "" } });
    await server.rt.db.secret.deleteMany({ where: { vaultId: me.ecdh_key_location.vault_id, path: me.ecdh_key_location.path } });

    const reads = await Promise.all([
      api.get(`/v1/agents/${legacy.agentId}`),
      api.get(`/v1/agents/${legacy.agentId}`),
      legacy.api.get("/v1/agents/me"),
      api.get("/v1/agents"),
    ]);
    for (const r of reads) expect(r.status).toBe(200);
    const keys = new Set([reads[0]!.body.ecdh_public_key, reads[1]!.body.ecdh_public_key, reads[2]!.body.ecdh_public_key, reads[3]!.body.agents.find((a: { id: string }) => a.id === legacy.agentId).ecdh_public_key]);
    expect(keys.size).toBe(1);
    const [pub] = [...keys] as string[];
    rawX25519(pub!);
    expect((await server.rt.db.agent.findUniqueOrThrow({ where: { id: legacy.agentId } })).ecdhPublicKey).toBe(pub);
    const own = await legacy.api.get(`/v1/vaults/${me.ecdh_key_location.vault_id}/secrets/${me.ecdh_key_location.path}`);
    expect(own.status).toBe(200);
    expect(own.body.version).toBe(1);
    expect(publicOf(own.body.value)).toBe(pub);
  });
});
