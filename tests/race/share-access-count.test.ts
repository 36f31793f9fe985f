import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { startTwinServers, type TwinServers } from "../helpers/agents";
import { client } from "../helpers/http";
import { clearOfWindowEdge } from "../helpers/windows";

/**
 * The share counters under concurrency, across two instances on one database: a share's
 * max_access_count (one conditional UPDATE) and the org's 10-creations-per-minute limit (one upsert).
 */
let twins: TwinServers;

beforeAll(async () => {
  twins = await startTwinServers();
});
afterAll(async () => {
  await twins?.close();
});

async function orgWithSecret(value: string) {
  const owner = await signUpVerified(twins.a);
  await twins.a.rt.db.org.update({ where: { id: owner.orgId }, data: { tier: "enterprise" } });
  const api = client(twins.a.url, owner.token);
  const vaultId = (await api.post("/v1/vaults", { name: "race" })).body.id as string;
  const secretId = (await api.put(`/v1/vaults/${vaultId}/secrets/shared/key`, { value })).body.id as string;
  return { owner, api, secretId };
}

const expiresAt = () => new Date(Date.now() + 3_600_000).toISOString();

describe("share counters under concurrency", () => {
  it("50 concurrent reads of a share with max_access_count 2 succeed exactly twice", async () => {
    const { api, secretId } = await orgWithSecret("twice-only");
    const created = await api.post(`/v1/secrets/${secretId}/share`, { recipient_type: "anyone_with_link", expires_at: expiresAt(), max_access_count: 2 });
    expect(created.status).toBe(201);
    const readers = [client(twins.a.url), client(twins.b.url)];
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => readers[i % 2]!.get(`/v1/share/${created.body.id}`)));
    const ok = results.filter((r) => r.status === 200);
    expect(ok).toHaveLength(2);
    expect(results.filter((r) => r.status === 410)).toHaveLength(48);
    expect(ok.map((r) => r.body.access_count).sort()).toEqual([1, 2]);
    expect(ok.every((r) => r.body.value === "twice-only")).toBe(true);
    expect(results.filter((r) => r.status !== 200).every((r) => !r.text.includes("twice-only"))).toBe(true);

    const row = await twins.a.rt.db.share.findUnique({ where: { id: created.body.id } });
    expect(row!.accessCount).toBe(2);
    expect(await twins.a.rt.db.auditEvent.count({ where: { action: "share.access", resourceId: created.body.id } })).toBe(2);
  });

  it("15 concurrent creations in one org: exactly 10 × 201, the rest 429 with Retry-After", async () => {
    const { owner, secretId } = await orgWithSecret("limited");
    const apis = [client(twins.a.url, owner.token), client(twins.b.url, owner.token)];
    // The limit counts in fixed one-minute windows: start well inside one so all 15 land in it.
    await clearOfWindowEdge(60_000, 10_000);
    const results = await Promise.all(
      Array.from({ length: 15 }, (_, i) => apis[i % 2]!.post(`/v1/secrets/${secretId}/share`, { recipient_type: "anyone_with_link", expires_at: expiresAt() })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(10);
    const limited = results.filter((r) => r.status === 429);
    expect(limited).toHaveLength(5);
    for (const r of limited) expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await twins.a.rt.db.share.count({ where: { orgId: owner.orgId } })).toBe(10);

    // Another org is not affected by this one's limit.
    const other = await orgWithSecret("elsewhere");
    expect((await other.api.post(`/v1/secrets/${other.secretId}/share`, { recipient_type: "anyone_with_link", expires_at: expiresAt() })).status).toBe(201);
  });
});
