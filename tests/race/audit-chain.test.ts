import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { startTwinServers, type TwinServers } from "../helpers/agents";
import { client } from "../helpers/http";
import { testDialect } from "../helpers/server";
import { dialectOf } from "../../server/audit/chain";

/**
 * Two Talon instances on one database append to the same org's chain at once: transactional writes
 * (secret PUTs, each with its event in its own transaction) and group-committed reads, interleaved.
 * No fork (two events with one seq), no gap, and the chain verifies.
 */
let twins: TwinServers;

beforeAll(async () => {
  twins = await startTwinServers();
});
afterAll(async () => {
  await twins?.close();
});

describe("audit hash chain under concurrent writers", () => {
  it("takes the per-org lock of the database in use (inside transactions too)", async () => {
    expect(dialectOf(twins.a.rt.db)).toBe(testDialect);
    expect(await twins.a.rt.db.$transaction(async (tx) => dialectOf(tx))).toBe(testDialect);
  });

  it("stays gapless and valid with 50 concurrent writes and 50 reads across two instances", async () => {
    const owner = await signUpVerified(twins.a);
    await twins.a.rt.db.org.update({ where: { id: owner.orgId }, data: { tier: "enterprise" } });
    const a = client(twins.a.url, owner.token);
    const b = client(twins.b.url, owner.token);
    const vaultId = (await a.post("/v1/vaults", { name: "chain" })).body.id as string;
    expect((await a.put(`/v1/vaults/${vaultId}/secrets/hot`, { value: "x" })).status).toBe(201);

    const writes = Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).put(`/v1/vaults/${vaultId}/secrets/w/${i}`, { value: `value-${i}` }));
    const reads = Array.from({ length: 50 }, (_, i) => (i % 2 ? b : a).get(`/v1/vaults/${vaultId}/secrets/hot`));
    const results = await Promise.all([...writes, ...reads]);
    expect(results.filter((r) => r.status === 201)).toHaveLength(50);
    expect(results.filter((r) => r.status === 200)).toHaveLength(50);

    const rows = await twins.a.rt.db.auditEvent.findMany({ where: { orgId: owner.orgId }, orderBy: { seq: "asc" }, select: { seq: true, action: true } });
    expect(rows.filter((r) => r.action === "secret.write")).toHaveLength(51);
    expect(rows.filter((r) => r.action === "secret.read")).toHaveLength(50);
    expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));

    const verify = await a.get("/v1/audit/verify");
    expect(verify.status).toBe(200);
    expect(verify.body).toMatchObject({ chain_valid: true, events_checked: rows.length, broken_at_event_id: null, complete: true });
    // The other instance starts from the checkpoint the first one signed, and a full run agrees.
    expect((await b.get("/v1/audit/verify")).body).toMatchObject({ chain_valid: true, events_checked: 0, verified_through_seq: rows.length, checkpoint: "valid" });
    expect((await b.get("/v1/audit/verify?full=true")).body).toMatchObject({ chain_valid: true, events_checked: rows.length, checkpoint: "valid" });
  });

  it("keeps separate orgs' chains independent while they are written at the same time", async () => {
    const [x, y] = await Promise.all([signUpVerified(twins.a), signUpVerified(twins.b)]);
    const xa = client(twins.a.url, x.token);
    const yb = client(twins.b.url, y.token);
    const created = await Promise.all([
      ...Array.from({ length: 3 }, (_, i) => xa.post("/v1/vaults", { name: `x${i}` })),
      ...Array.from({ length: 3 }, (_, i) => yb.post("/v1/vaults", { name: `y${i}` })),
    ]);
    expect(created.every((r) => r.status === 201)).toBe(true);
    for (const o of [x, y]) {
      const seqs = (await twins.a.rt.db.auditEvent.findMany({ where: { orgId: o.orgId }, orderBy: { seq: "asc" }, select: { seq: true } })).map((r) => r.seq);
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    }
    expect((await xa.get("/v1/audit/verify")).body.chain_valid).toBe(true);
    expect((await yb.get("/v1/audit/verify")).body.chain_valid).toBe(true);
  });
});
