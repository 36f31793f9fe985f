import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scanDueRotations } from "../../server/secrets/rotation-scan";
import { signUpVerified } from "../helpers/accounts";
import { startTwinServers, type TwinServers } from "../helpers/agents";
import { client } from "../helpers/http";
import { testDialect } from "../helpers/server";

/**
 * Issue 16: `rotation_policy` on secrets as the 1Claw SDK sends it (`secrets.set(vault, key, value,
 * { rotation_policy })` → PUT with the field beside type/value), stored and shown, and reminders: a
 * due secret is announced once in the audit log (`secret.rotation_due`) whichever instance scans,
 * listed with `?rotation_due=true`, and a new version starts the interval again.
 */
let twins: TwinServers;
let api: ReturnType<typeof client>;
let orgId: string;
let vaultId: string;
const DAY = 86_400_000;

beforeAll(async () => {
  twins = await startTwinServers();
  const owner = await signUpVerified(twins.a);
  orgId = owner.orgId;
  api = client(twins.a.url, owner.token);
  vaultId = (await api.post("/v1/vaults", { name: "rotating" })).body.id;
});
afterAll(async () => {
  await twins?.close();
});

/** Moves a secret's due date into the past, as if its interval had gone by. */
async function makeDue(path: string, daysAgo = 1) {
  await twins.a.rt.db.secret.update({ where: { vaultId_path: { vaultId, path } }, data: { rotationDueAt: new Date(Date.now() - daysAgo * DAY) } });
}

const dueEvents = (secretId: string) => twins.a.rt.db.auditEvent.findMany({ where: { orgId, action: "secret.rotation_due", resourceId: secretId } });

describe("rotation_policy on PUT", () => {
  it("stores and shows it: due date = this version + interval_days; absent keeps it, null removes it", async () => {
    const put = await api.put(`/v1/vaults/${vaultId}/secrets/api/stripe`, { type: "api_key", value: "sk-1", rotation_policy: { interval_days: 30 } });
    expect(put.status).toBe(201);
    expect(put.body).toMatchObject({ rotation_policy: { interval_days: 30 }, rotation_due: false });
    expect(Date.parse(put.body.rotation_due_at) - Date.parse(put.body.created_at)).toBe(30 * DAY);

    const list = await api.get(`/v1/vaults/${vaultId}/secrets?prefix=api/`);
    expect(list.body.secrets).toEqual([expect.objectContaining({ path: "api/stripe", rotation_policy: { interval_days: 30 }, rotation_due_at: put.body.rotation_due_at, rotation_due: false })]);

    // The SDK's rotate() is a set() without the option: the policy stays, the interval restarts.
    const again = await api.put(`/v1/vaults/${vaultId}/secrets/api/stripe`, { type: "api_key", value: "sk-2" });
    expect(again.body).toMatchObject({ version: 2, rotation_policy: { interval_days: 30 } });
    expect(Date.parse(again.body.rotation_due_at) - Date.parse(again.body.created_at)).toBe(30 * DAY);

    const cleared = await api.put(`/v1/vaults/${vaultId}/secrets/api/stripe`, { type: "api_key", value: "sk-3", rotation_policy: null });
    expect(cleared.body.version).toBe(3);
    for (const field of ["rotation_policy", "rotation_due_at", "rotation_due"]) expect(cleared.body).not.toHaveProperty(field);
    const row = await twins.a.rt.db.secret.findUniqueOrThrow({ where: { id: put.body.id } });
    expect(row).toMatchObject({ rotationPolicy: null, rotationDueAt: null });
  });

  it("400 naming the field for a bad interval or an unknown key", async () => {
    for (const [policy, field] of [
      [{ interval_days: 0 }, "rotation_policy.interval_days"],
      [{ interval_days: 1.5 }, "rotation_policy.interval_days"],
      [{ interval_days: 30, rotate_with: "lambda" }, "rotation_policy"],
      ["90d", "rotation_policy"],
    ] as const) {
      const res = await api.put(`/v1/vaults/${vaultId}/secrets/bad/policy`, { value: "v", rotation_policy: policy });
      expect(res.status, JSON.stringify(policy)).toBe(400);
      expect(res.body.fields.map((f: { field: string }) => f.field).join(" ")).toContain(field);
    }
    const ok = await api.put(`/v1/vaults/${vaultId}/secrets/bad/policy`, { value: "v", rotation_policy: { interval_days: 3650 } });
    expect(ok.status).toBe(201);
  });
});

describe("reminders", () => {
  it("a due secret is announced once across two instances scanning at the same time, and listed as due", async () => {
    const ids: string[] = [];
    for (const n of [1, 2, 3]) {
      const put = await api.put(`/v1/vaults/${vaultId}/secrets/due/key-${n}`, { value: `v${n}`, rotation_policy: { interval_days: 7 } });
      ids.push(put.body.id);
      await makeDue(`due/key-${n}`);
    }
    const notDue = await api.put(`/v1/vaults/${vaultId}/secrets/due/fresh`, { value: "fresh", rotation_policy: { interval_days: 7 } });

    // PostgreSQL: both instances scan at once. SQLite: both runtimes live in this one process, where a
    // writer waiting on the file lock blocks the event loop its competitor needs to commit, so they
    // take turns (separate processes would contend as PostgreSQL's instances do).
    const [a, b] =
      testDialect === "postgres"
        ? await Promise.all([scanDueRotations(twins.a.rt), scanDueRotations(twins.b.rt)])
        : [await scanDueRotations(twins.a.rt), await scanDueRotations(twins.b.rt)];
    expect(a.announced + b.announced).toBe(3);
    expect(a.rotated + b.rotated).toBe(0);
    for (const id of ids) {
      const events = await dueEvents(id);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ actorId: "system", actorType: "system", resourceType: "secret" });
      expect(JSON.parse(events[0]!.details)).toMatchObject({ vault_id: vaultId, version: 1 });
      expect(events[0]!.details).not.toMatch(/v[123]"/);
    }
    expect(await dueEvents(notDue.body.id)).toHaveLength(0);
    // Scanning again announces nothing new.
    expect(await scanDueRotations(twins.b.rt)).toEqual({ announced: 0, rotated: 0 });

    const due = await api.get(`/v1/vaults/${vaultId}/secrets?rotation_due=true`);
    expect(due.status).toBe(200);
    expect(due.body.secrets.map((s: { path: string }) => s.path).sort()).toEqual(["due/key-1", "due/key-2", "due/key-3"]);
    expect(due.body.secrets.every((s: { rotation_due: boolean }) => s.rotation_due)).toBe(true);
    const notDueList = await api.get(`/v1/vaults/${vaultId}/secrets?rotation_due=false&prefix=due/`);
    expect(notDueList.body.secrets.map((s: { path: string }) => s.path)).toEqual(["due/fresh"]);

    // A rotation (the server-generated kind too) restarts the interval and clears the announcement.
    const rotated = await api.post(`/v1/vaults/${vaultId}/secret-rotate/due/key-1`, {});
    expect(rotated.status).toBe(201);
    expect(rotated.body).toMatchObject({ version: 2, rotation_policy: { interval_days: 7 }, rotation_due: false });
    const row = await twins.a.rt.db.secret.findUniqueOrThrow({ where: { id: ids[0] } });
    expect(row.rotationNotifiedAt).toBeNull();
    expect((await api.get(`/v1/vaults/${vaultId}/secrets?rotation_due=true`)).body.secrets.map((s: { path: string }) => s.path)).not.toContain("due/key-1");
    // Due again later: announced again, once.
    await makeDue("due/key-1");
    expect(await scanDueRotations(twins.a.rt)).toEqual({ announced: 1, rotated: 0 });
    expect(await dueEvents(ids[0]!)).toHaveLength(2);
  });

  it("a deleted secret is never announced; the announcement is in the audit chain, which still verifies", async () => {
    const put = await api.put(`/v1/vaults/${vaultId}/secrets/gone/key`, { value: "x", rotation_policy: { interval_days: 1 } });
    await makeDue("gone/key");
    expect((await api.delete(`/v1/vaults/${vaultId}/secrets/gone/key`)).status).toBe(204);
    expect(await scanDueRotations(twins.a.rt)).toEqual({ announced: 0, rotated: 0 });
    expect(await dueEvents(put.body.id)).toHaveLength(0);
    const verify = await api.get("/v1/audit/verify");
    expect(verify.status).toBe(200);
    expect(verify.body.chain_valid).toBe(true);
  });
});
