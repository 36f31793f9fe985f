import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * The org IP-rule boundary behind one trusted proxy (TALON_TRUSTED_PROXY_HOPS=1): the client address
 * is the rightmost X-Forwarded-For entry, or the socket's (127.0.0.1) when there is none. Each 403 has
 * a positive control: the same credential from an admitted address, at the same moment, gets 200.
 * The rule cache keeps its default 5 s lifetime, so every immediate effect below proves the local
 * invalidation on change.
 */
let server: TestServer;
let owner: ReturnType<typeof client>;
let outsider: ReturnType<typeof client>;
let personalKey: ReturnType<typeof client>;
let agent: ReturnType<typeof client>;
const from = (ip: string) => ({ "X-Forwarded-For": ip });
const DENIED = "Your IP address is not allowed by this organisation's IP rules";

/** Status of one authenticated request by `api`, from `ip` (undefined = no header: the socket address). */
const statusFrom = async (api: ReturnType<typeof client>, ip?: string) => (await api.get("/v1/auth/me", ip ? from(ip) : {})).status;
const agentStatusFrom = async (ip?: string) => (await agent.get("/v1/agents/me", ip ? from(ip) : {})).status;

beforeAll(async () => {
  server = await startTestServer({ env: { TALON_TRUSTED_PROXY_HOPS: "1" } });
  owner = client(server.url, (await signUpVerified(server)).token);
  outsider = client(server.url, (await signUpVerified(server)).token);
  const key = await owner.post("/v1/auth/api-keys", { name: "ci" });
  expect(key.status).toBe(201);
  personalKey = client(server.url, key.body.api_key);
  const a = await owner.post("/v1/agents", { name: "boundary-agent" });
  expect(a.status, a.text).toBe(201);
  agent = client(server.url, a.body.api_key);
});
afterAll(async () => {
  await server?.close();
});

async function addRule(rule_type: "allow" | "deny", cidr: string, ip?: string, force = false) {
  const res = await owner.post(`/v1/security/ip-rules${force ? "?force=true" : ""}`, { rule_type, cidr }, ip ? from(ip) : {});
  expect(res.status, res.text).toBe(201);
  return res.body.id as string;
}

describe("IP rules behind a trusted proxy", () => {
  it("a deny rule refuses exactly its network, for users, personal keys and agents; other orgs are untouched", async () => {
    // Warm the cache with "no rules".
    expect(await statusFrom(owner, "192.168.7.7")).toBe(200);
    const id = await addRule("deny", "192.168.0.0/16", "10.1.1.1");
    const res = await owner.get("/v1/auth/me", from("192.168.7.7"));
    expect(res.status).toBe(403);
    expect(res.body.detail).toBe(DENIED);
    expect(await statusFrom(personalKey, "192.168.7.7")).toBe(403);
    expect(await agentStatusFrom("192.168.7.7")).toBe(403);
    expect(await statusFrom(outsider, "192.168.7.7")).toBe(200);
    // Positive controls: the same credentials from outside the denied network.
    expect(await statusFrom(owner, "10.1.1.1")).toBe(200);
    expect(await statusFrom(personalKey, "172.16.0.1")).toBe(200);
    expect(await agentStatusFrom("10.1.1.1")).toBe(200);
    expect((await owner.delete(`/v1/security/ip-rules/${id}`, undefined, from("10.1.1.1"))).status).toBe(204);
    expect(await statusFrom(owner, "192.168.7.7")).toBe(200);
  });

  it("deny 127.0.0.0/8 blocks requests without the header (the socket address), not those the proxy forwards from elsewhere; deleting it restores access at once", async () => {
    const id = await addRule("deny", "127.0.0.0/8", "10.1.1.1");
    expect(await statusFrom(owner)).toBe(403);
    expect(await statusFrom(owner, "127.0.0.5")).toBe(403);
    expect(await statusFrom(owner, "10.1.1.1")).toBe(200);
    // Only the rightmost entry counts: what the client wrote to the left is not believed.
    expect(await statusFrom(owner, "10.1.1.1, 127.0.0.1")).toBe(403);
    expect(await statusFrom(owner, "127.0.0.1, 10.1.1.1")).toBe(200);
    // A malformed header falls back to the socket address.
    expect(await statusFrom(owner, "garbage")).toBe(403);
    expect((await owner.delete(`/v1/security/ip-rules/${id}`, undefined, from("10.1.1.1"))).status).toBe(204);
    expect(await statusFrom(owner)).toBe(200);
  });

  it("once an allow rule exists only listed networks get in; deny beats allow", async () => {
    const ten = await addRule("allow", "10.0.0.0/8", "10.1.1.1");
    expect(await statusFrom(owner)).toBe(403);
    expect(await statusFrom(owner, "11.0.0.1")).toBe(403);
    expect(await agentStatusFrom()).toBe(403);
    expect(await statusFrom(owner, "10.200.3.4")).toBe(200);
    expect(await agentStatusFrom("10.200.3.4")).toBe(200);

    const local = await addRule("allow", "127.0.0.1/32", "10.1.1.1");
    expect(await statusFrom(owner)).toBe(200);
    expect(await statusFrom(owner, "127.0.0.2")).toBe(403);

    const deny = await addRule("deny", "10.9.0.0/16", "10.1.1.1");
    expect(await statusFrom(owner, "10.9.1.1")).toBe(403);
    expect(await statusFrom(owner, "10.8.1.1")).toBe(200);

    // Deleting the allow rule the caller stands in would lock them out: refused unless forced.
    const refused = await owner.delete(`/v1/security/ip-rules/${local}`);
    expect(refused.status).toBe(400);
    expect(await statusFrom(owner)).toBe(200);
    for (const id of [local, ten, deny]) expect((await owner.delete(`/v1/security/ip-rules/${id}`, undefined, from("10.1.1.1"))).status).toBe(204);
    expect(await statusFrom(owner, "11.0.0.1")).toBe(200);
  });

  it("IPv6 rules match IPv6 clients", async () => {
    const allow = await addRule("allow", "2001:db8::/32", "2001:db8::5");
    expect(await statusFrom(owner, "2001:db8:ffff::1")).toBe(200);
    expect(await statusFrom(owner, "2001:db9::1")).toBe(403);
    expect(await statusFrom(owner, "10.1.1.1")).toBe(403);
    const deny = await addRule("deny", "2001:db8:bad::/48", "2001:db8::5");
    expect(await statusFrom(owner, "2001:db8:bad::7")).toBe(403);
    expect(await statusFrom(owner, "2001:db8:600d::7")).toBe(200);
    for (const id of [deny, allow]) expect((await owner.delete(`/v1/security/ip-rules/${id}`, undefined, from("2001:db8::5"))).status).toBe(204);
    expect(await statusFrom(owner, "2001:db9::1")).toBe(200);
  });
});
