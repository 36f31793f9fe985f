import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { addAgent, addOrgUser, grant, NO_RATE_LIMITS } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";
import { call, connectHttp } from "../mcp/helpers";

/**
 * Crypto-proxy agents never receive a raw private key (`private_key`, `ssh_key`) by any path: a read,
 * a read by version, a rotation's answer, MCP, a share they create, a share they accept or read. Each
 * refusal sits beside a non-crypto agent with the same policy doing the same thing, and the crypto
 * agent reading a `password` the same way. The same rule puts a recipient's token scopes over what a
 * share can hand it.
 */
let server: TestServer;
let owner: ReturnType<typeof client>;
let ownerToken: string;
let vault: string;
let orgId: string;
const ids: Record<string, string> = {};
let crypto: Awaited<ReturnType<typeof addAgent>>;
let plain: Awaited<ReturnType<typeof addAgent>>;

const inDays = (d: number) => new Date(Date.now() + d * 86_400_000).toISOString();
const secretUrl = (path: string) => `/v1/vaults/${vault}/secrets/${path}`;
const shareBody = (body: Record<string, unknown>) => ({ expires_at: inDays(1), ...body });

beforeAll(async () => {
  server = await startTestServer({ env: NO_RATE_LIMITS });
  const acct = await signUpVerified(server);
  await server.rt.db.org.update({ where: { id: acct.orgId }, data: { tier: "enterprise" } });
  owner = client(server.url, acct.token);
  ownerToken = acct.token;
  orgId = acct.orgId;
  vault = (await owner.post("/v1/vaults", { name: "keys" })).body.id;
  for (const [path, value, type] of [
    ["keys/signer", "0xRAW-SIGNER-KEY", "private_key"],
    ["keys/ssh", "RAW-SSH-PRIVATE-KEY", "ssh_key"],
    ["db/password", "plain-db-password", "password"],
  ] as const) {
    const put = await owner.put(secretUrl(path), { value, type });
    expect(put.status).toBe(201);
    ids[path] = put.body.id;
  }
  crypto = await addAgent(server, ownerToken, { cryptoProxyEnabled: true });
  plain = await addAgent(server, ownerToken);
  for (const a of [crypto, plain]) await grant(owner, vault, { principal_type: "agent", principal_id: a.agentId, permissions: ["read", "write"] });
});
afterAll(async () => {
  await server?.close();
});
beforeEach(async () => {
  await server.rt.db.rateCounter.deleteMany({ where: { key: { startsWith: "share-create:" } } });
});

describe("reads", () => {
  it("latest and by version: 403 for the crypto agent on private_key and ssh_key; the plain agent reads them; the crypto agent reads a password", async () => {
    for (const path of ["keys/signer", "keys/ssh"]) {
      for (const url of [secretUrl(path), `/v1/vaults/${vault}/secret-version/${path}/1`]) {
        const refused = await crypto.api.get(url);
        expect(refused.status, url).toBe(403);
        expect(refused.body.detail).toContain("crypto_proxy_enabled");
        expect(refused.text).not.toContain("RAW-");
        const allowed = await plain.api.get(url);
        expect(allowed.status, url).toBe(200);
        expect(allowed.body.value).toMatch(/RAW-/);
      }
    }
    expect((await crypto.api.get(secretUrl("db/password"))).body.value).toBe("plain-db-password");
    expect((await crypto.api.get(`/v1/vaults/${vault}/secret-version/db/password/1`)).body.value).toBe("plain-db-password");
  });

  it("a rotation answers with the new value, so the crypto agent cannot rotate a raw key (nothing is written); the plain agent can", async () => {
    const refused = await crypto.api.post(`/v1/vaults/${vault}/secret-rotate/keys/ssh`, {});
    expect(refused.status).toBe(403);
    expect((await owner.get(`/v1/vaults/${vault}/secret-versions/keys/ssh`)).body.versions).toHaveLength(1);
    const rotated = await plain.api.post(`/v1/vaults/${vault}/secret-rotate/keys/ssh`, {});
    expect(rotated.status).toBe(201);
    expect(rotated.body.version).toBe(2);
    expect((await owner.put(secretUrl("db/rotating"), { value: "old-password", type: "password" })).status).toBe(201);
    expect((await crypto.api.post(`/v1/vaults/${vault}/secret-rotate/db/rotating`, {})).status).toBe(201);
  });

  it("MCP (hosted) goes through the same read: get_secret refuses the raw key to the crypto agent only", async () => {
    const asCrypto = await connectHttp(server.url, { Authorization: `Bearer ${crypto.token}`, "X-Vault-ID": vault });
    const asPlain = await connectHttp(server.url, { Authorization: `Bearer ${plain.token}`, "X-Vault-ID": vault });
    try {
      const refused = await call(asCrypto.client, "get_secret", { path: "keys/signer" });
      expect(refused.isError).toBe(true);
      expect(refused.text).not.toContain("RAW-");
      expect((await call(asPlain.client, "get_secret", { path: "keys/signer" })).text).toContain("0xRAW-SIGNER-KEY");
      expect((await call(asCrypto.client, "get_secret", { path: "db/password" })).text).toContain("plain-db-password");
    } finally {
      await asCrypto.close();
      await asPlain.close();
    }
  });
});

describe("shares", () => {
  it("the crypto agent cannot create a share of a raw key (403); the plain agent can; the crypto agent can share a password", async () => {
    for (const path of ["keys/signer", "keys/ssh"]) {
      const refused = await crypto.api.post(`/v1/secrets/${ids[path]}/share`, shareBody({ recipient_type: "creator" }));
      expect(refused.status, path).toBe(403);
      expect(refused.body.detail).toContain("crypto_proxy_enabled");
      expect((await plain.api.post(`/v1/secrets/${ids[path]}/share`, shareBody({ recipient_type: "creator" }))).status, path).toBe(201);
    }
    expect(await server.rt.db.share.count({ where: { createdBy: `agent:${crypto.agentId}` } })).toBe(0);
    expect((await crypto.api.post(`/v1/secrets/${ids["db/password"]}/share`, shareBody({ recipient_type: "creator" }))).status).toBe(201);
  });

  it("the crypto agent cannot accept a share of a raw key sent to it (403); the plain agent accepts and reads the same kind of share", async () => {
    const toCrypto = (await owner.post(`/v1/secrets/${ids["keys/signer"]}/share`, shareBody({ recipient_type: "agent", recipient_id: crypto.agentId }))).body.id;
    const accept = await crypto.api.post(`/v1/shares/${toCrypto}/accept`);
    expect(accept.status).toBe(403);
    expect(accept.body.detail).toContain("crypto_proxy_enabled");
    expect((await crypto.api.get(`/v1/share/${toCrypto}`)).status).toBe(403);

    const toPlain = (await owner.post(`/v1/secrets/${ids["keys/signer"]}/share`, shareBody({ recipient_type: "agent", recipient_id: plain.agentId }))).body.id;
    expect((await plain.api.post(`/v1/shares/${toPlain}/accept`)).status).toBe(204);
    expect((await plain.api.get(`/v1/share/${toPlain}`)).body.value).toBe("0xRAW-SIGNER-KEY");

    const password = (await owner.post(`/v1/secrets/${ids["db/password"]}/share`, shareBody({ recipient_type: "agent", recipient_id: crypto.agentId }))).body.id;
    expect((await crypto.api.post(`/v1/shares/${password}/accept`)).status).toBe(204);
    expect((await crypto.api.get(`/v1/share/${password}`)).body.value).toBe("plain-db-password");
  });

  it("an accepted follow-latest share stops serving the crypto agent once the path holds a raw key", async () => {
    const put = await owner.put(secretUrl("later/key"), { value: "not-a-key-yet", type: "password" });
    const s = (await owner.post(`/v1/secrets/${put.body.id}/share`, shareBody({ recipient_type: "agent", recipient_id: crypto.agentId, follow_latest: true }))).body.id;
    expect((await crypto.api.post(`/v1/shares/${s}/accept`)).status).toBe(204);
    expect((await crypto.api.get(`/v1/share/${s}`)).body.value).toBe("not-a-key-yet");
    expect((await owner.put(secretUrl("later/key"), { value: "0xRAW-LATER-KEY", type: "private_key" })).status).toBe(201);
    const refused = await crypto.api.get(`/v1/share/${s}`);
    expect(refused.status).toBe(403);
    expect(refused.text).not.toContain("RAW-");
    expect((await server.rt.db.share.findUnique({ where: { id: s } }))!.accessCount).toBe(1);
  });

  it("a link share of a raw key opened with the crypto agent's token is refused; the plain agent's token reads it", async () => {
    const s = (await owner.post(`/v1/secrets/${ids["keys/ssh"]}/share`, shareBody({ recipient_type: "anyone_with_link" }))).body.id;
    expect((await crypto.api.get(`/v1/share/${s}`)).status).toBe(403);
    expect((await plain.api.get(`/v1/share/${s}`)).status).toBe(200);
  });
});

describe("a recipient's scopes are a ceiling on what shares hand it", () => {
  it("an agent scoped to app/* cannot accept or read a share of db/password; an agent scoped to db/* can", async () => {
    const narrow = await addAgent(server, ownerToken, { scopes: ["app/*"] });
    const wide = await addAgent(server, ownerToken, { scopes: ["db/*"] });
    const toNarrow = (await owner.post(`/v1/secrets/${ids["db/password"]}/share`, shareBody({ recipient_type: "agent", recipient_id: narrow.agentId }))).body.id;
    const refused = await narrow.api.post(`/v1/shares/${toNarrow}/accept`);
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toContain("scopes");
    await server.rt.db.share.update({ where: { id: toNarrow }, data: { acceptedAt: new Date() } });
    expect((await narrow.api.get(`/v1/share/${toNarrow}`)).status).toBe(403);

    const toWide = (await owner.post(`/v1/secrets/${ids["db/password"]}/share`, shareBody({ recipient_type: "agent", recipient_id: wide.agentId }))).body.id;
    expect((await wide.api.post(`/v1/shares/${toWide}/accept`)).status).toBe(204);
    expect((await wide.api.get(`/v1/share/${toWide}`)).body.value).toBe("plain-db-password");
  });

  it("a personal key scoped to app/* cannot accept or read a share of db/password sent to its user; the user's unscoped token can", async () => {
    const member = await addOrgUser(server, orgId, "member");
    const key = await member.api.post("/v1/auth/api-keys", { name: "narrow", scopes: ["app/*"] });
    expect(key.status).toBe(201);
    const viaKey = client(server.url, key.body.api_key);
    const s = (await owner.post(`/v1/secrets/${ids["db/password"]}/share`, shareBody({ recipient_type: "user", recipient_id: member.userId }))).body.id;
    const refused = await viaKey.post(`/v1/shares/${s}/accept`);
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toContain("scopes");
    expect((await member.api.post(`/v1/shares/${s}/accept`)).status).toBe(204);
    const read = await viaKey.get(`/v1/share/${s}`);
    expect(read.status).toBe(403);
    expect(read.text).not.toContain("plain-db-password");
    expect((await member.api.get(`/v1/share/${s}`)).body.value).toBe("plain-db-password");
  });
});
