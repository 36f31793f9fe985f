import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AUDITED_FAILURES_PER_HOUR } from "../../server/identity/failures";
import { signUpVerified, uniqueEmail } from "../helpers/accounts";
import { registerAgent } from "../helpers/agents";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";
import { clearOfCounterEdges } from "../helpers/windows";

/**
 * Failed anonymous sign-in attempts are bounded before they reach an org's audit chain (an attacker
 * must not be able to grow a victim org's log without limit), and they are attributed to
 * "anonymous", never to the victim user whose address was typed.
 */
const PER_ACCOUNT = 5;
let server: TestServer;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  server = await startTestServer({ env: { TALON_LOGIN_MAX_FAILURES_PER_HOUR: String(PER_ACCOUNT), TALON_LOGIN_MAX_FAILURES_PER_IP_PER_HOUR: "100000" } });
  api = client(server.url);
});
afterAll(async () => {
  await server?.close();
});
beforeEach(async () => {
  await server.rt.db.rateCounter.deleteMany();
  await clearOfCounterEdges();
});

const failuresIn = (orgId: string) => server.rt.db.auditEvent.findMany({ where: { orgId, action: "auth.failure" }, orderBy: { seq: "asc" } });

describe("failed sign-ins against a victim account", () => {
  it("add a bounded number of anonymous events to the victim org, however many attempts (wrong and rate-limited)", async () => {
    const victim = await signUpVerified(server);
    const eventsBefore = await server.rt.db.auditEvent.count({ where: { orgId: victim.orgId } });
    const attempts = AUDITED_FAILURES_PER_HOUR * 3;
    const statuses: number[] = [];
    for (let i = 0; i < attempts; i++) statuses.push((await api.post("/v1/auth/token", { email: victim.email, password: `wrong guess ${i}` })).status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(PER_ACCOUNT);
    expect(statuses.filter((s) => s === 429)).toHaveLength(attempts - PER_ACCOUNT);

    const failures = await failuresIn(victim.orgId);
    expect(failures).toHaveLength(AUDITED_FAILURES_PER_HOUR);
    expect(await server.rt.db.auditEvent.count({ where: { orgId: victim.orgId } })).toBe(eventsBefore + AUDITED_FAILURES_PER_HOUR);
    for (const e of failures) {
      expect(e).toMatchObject({ actorType: "anonymous", actorId: "anonymous", resourceId: victim.userId });
      expect(e.actorId).not.toContain(victim.userId);
    }
    expect(JSON.parse(failures.at(-1)!.details)).toMatchObject({ more_this_hour_not_recorded: true });
    expect(failures.filter((e) => JSON.parse(e.details).reason === "rate_limited")).toHaveLength(AUDITED_FAILURES_PER_HOUR - PER_ACCOUNT);

    // The window passing opens the record again.
    await server.rt.db.rateCounter.updateMany({ data: { windowStart: { decrement: 3_600_000n } } });
    expect((await api.post("/v1/auth/token", { email: victim.email, password: "one more wrong guess" })).status).toBe(401);
    expect(await failuresIn(victim.orgId)).toHaveLength(AUDITED_FAILURES_PER_HOUR + 1);
  });

  it("positive control: the victim's own sign-in is still recorded, as the victim; another account's first failure is recorded", async () => {
    const victim = await signUpVerified(server);
    for (let i = 0; i < AUDITED_FAILURES_PER_HOUR + 5; i++) await api.post("/v1/auth/token", { email: victim.email, password: "wrong" });
    await server.rt.db.rateCounter.deleteMany({ where: { key: { startsWith: "login:" } } });
    expect((await api.post("/v1/auth/token", { email: victim.email, password: victim.password })).status).toBe(200);
    const success = await server.rt.db.auditEvent.findMany({ where: { orgId: victim.orgId, action: "auth.success" } });
    expect(success.map((e) => [e.actorType, e.actorId])).toContainEqual(["user", `user:${victim.userId}`]);

    const other = await signUpVerified(server);
    expect((await api.post("/v1/auth/token", { email: other.email, password: "wrong" })).status).toBe(401);
    expect(await failuresIn(other.orgId)).toHaveLength(1);
  });

  it("failures for unknown addresses are bounded per client IP and belong to no org", async () => {
    const before = (await failuresIn("")).length;
    for (let i = 0; i < AUDITED_FAILURES_PER_HOUR + 10; i++) await api.post("/v1/auth/token", { email: uniqueEmail("spray"), password: "wrong" });
    const added = (await failuresIn("")).slice(before);
    expect(added).toHaveLength(AUDITED_FAILURES_PER_HOUR);
    expect(added.every((e) => e.actorType === "anonymous" && e.actorId === "anonymous")).toBe(true);
  });
});

describe("failed agent-token exchanges against a victim agent", () => {
  it("are anonymous events in the agent's org, bounded per agent; the agent's own exchange is still recorded as the agent", async () => {
    const human = await signUpVerified(server);
    const victim = await registerAgent(server.url, human.token);
    const wrongKey = `ocv_${victim.apiKey.slice(4, 12)}${"A".repeat(35)}`;
    const attempts = AUDITED_FAILURES_PER_HOUR + 10;
    for (let i = 0; i < attempts; i++) expect((await api.post("/v1/auth/agent-token", { agent_id: victim.id, api_key: wrongKey })).status).toBe(401);

    const failures = await failuresIn(human.orgId);
    expect(failures).toHaveLength(AUDITED_FAILURES_PER_HOUR);
    for (const e of failures) expect(e).toMatchObject({ actorType: "anonymous", actorId: "anonymous", resourceType: "agent", resourceId: victim.id });
    expect(JSON.parse(failures.at(-1)!.details)).toMatchObject({ more_this_hour_not_recorded: true });

    // Positive control: a proven exchange is the agent's own act.
    expect((await api.post("/v1/auth/agent-token", { agent_id: victim.id, api_key: victim.apiKey })).status).toBe(200);
    const success = await server.rt.db.auditEvent.findMany({ where: { orgId: human.orgId, action: "auth.success", resourceId: victim.id } });
    expect(success).toHaveLength(1);
    expect(success[0]).toMatchObject({ actorType: "agent", actorId: `agent:${victim.id}` });
  });
});
