import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { addAgent, NO_RATE_LIMITS, utcClock } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * Issue 16: a policy's time window in the spec's spelling — `{start, end, timezone, days: ["mon", …]}`
 * — is accepted beside Talon's `{after, before, timezone, days_of_week}`, normalised to Talon's form
 * (stored, returned) and enforced the same way. Each 403 sits beside the same agent reading inside
 * the window.
 */
let server: TestServer;
let owner: ReturnType<typeof client>;
let ownerToken: string;
let vault: string;
const WEEKDAY = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const today = () => WEEKDAY[new Date().getUTCDay()]!;
const notToday = () => WEEKDAY.filter((d) => d !== today());

beforeAll(async () => {
  server = await startTestServer({ env: NO_RATE_LIMITS });
  const acct = await signUpVerified(server);
  owner = client(server.url, acct.token);
  ownerToken = acct.token;
  vault = (await owner.post("/v1/vaults", { name: "windows" })).body.id;
  expect((await owner.put(`/v1/vaults/${vault}/secrets/db/x`, { value: "db-x-value", type: "password" })).status).toBe(201);
});
afterAll(async () => {
  await server?.close();
});

/** What the 1Claw SDK's access.grantAgent sends: its three policy fields included. */
const sdkGrant = (agentId: string, conditions: unknown) => ({
  secret_path_pattern: "**",
  principal_type: "agent",
  principal_id: agentId,
  permissions: ["read"],
  conditions,
  effect: "allow",
  priority: 0,
  policy_schema_version: 1,
});

describe("the spec's TimeWindow shape", () => {
  it("is accepted, returned in Talon's form and enforced: a window around now allows, one that excludes now does not", async () => {
    const { agentId, api } = await addAgent(server, ownerToken);
    const outside = { start: utcClock(120), end: utcClock(180), timezone: "UTC", days: ["Mon", "tuesday", "wed", "THU", "fri", "sat", "sun"] };
    const created = await owner.post(`/v1/vaults/${vault}/policies`, sdkGrant(agentId, { time_window: outside }));
    expect(created.status).toBe(201);
    expect(created.body.conditions).toEqual({ time_window: { after: outside.start, before: outside.end, timezone: "UTC", days_of_week: [1, 2, 3, 4, 5, 6, 7] } });
    const listed = await owner.get(`/v1/vaults/${vault}/policies`);
    expect(listed.body.policies.find((p: { id: string }) => p.id === created.body.id).conditions).toEqual(created.body.conditions);
    expect((await api.get(`/v1/vaults/${vault}/secrets/db/x`)).status).toBe(403);

    const inside = { start: utcClock(-60), end: utcClock(60), timezone: "UTC" };
    const updated = await owner.put(`/v1/vaults/${vault}/policies/${created.body.id}`, { conditions: { time_window: inside } });
    expect(updated.status).toBe(200);
    expect(updated.body.conditions.time_window).toEqual({ after: inside.start, before: inside.end, timezone: "UTC" });
    const read = await api.get(`/v1/vaults/${vault}/secrets/db/x`);
    expect(read.status).toBe(200);
    expect(read.body.value).toBe("db-x-value");
  });

  it("days name the weekdays: every day but today refuses, today allows", async () => {
    const { agentId, api } = await addAgent(server, ownerToken);
    const allDay = { start: "00:00", end: "23:59" };
    const created = await owner.post(`/v1/vaults/${vault}/policies`, sdkGrant(agentId, { time_window: { ...allDay, days: notToday() } }));
    expect(created.status).toBe(201);
    // A minute before midnight the 23:59 end would close the window anyway; the day test needs the rest of it.
    if (utcClock(0) === "23:59") return;
    expect((await api.get(`/v1/vaults/${vault}/secrets/db/x`)).status).toBe(403);
    expect((await owner.put(`/v1/vaults/${vault}/policies/${created.body.id}`, { conditions: { time_window: { ...allDay, days: [today()] } } })).status).toBe(200);
    expect((await api.get(`/v1/vaults/${vault}/secrets/db/x`)).status).toBe(200);
  });

  it("400 naming the field in the spelling the client used; Talon's spelling unchanged", async () => {
    const { agentId } = await addAgent(server, ownerToken);
    const cases: [unknown, string][] = [
      [{ start: "9am", end: "17:00" }, "conditions.time_window.start"],
      [{ start: "09:00", end: "17:00", days: ["funday"] }, "conditions.time_window.days.0"],
      [{ start: "09:00", before: "17:00" }, "conditions.time_window.before"],
      [{ start: "09:00", end: "09:00" }, "conditions.time_window.end"],
      [{ start: "09:00", end: "17:00", timezone: "Mars/Olympus" }, "conditions.time_window"],
      [{ after: "8am", before: "20:00" }, "conditions.time_window.after"],
    ];
    for (const [window, field] of cases) {
      const res = await owner.post(`/v1/vaults/${vault}/policies`, sdkGrant(agentId, { time_window: window }));
      expect(res.status, JSON.stringify(window)).toBe(400);
      expect(res.body.fields.map((f: { field: string }) => f.field), JSON.stringify(window)).toContain(field);
    }
    const ours = await owner.post(`/v1/vaults/${vault}/policies`, sdkGrant(agentId, { time_window: { after: "08:00", before: "20:00", days_of_week: [1, 5] } }));
    expect(ours.status).toBe(201);
    expect(ours.body.conditions.time_window).toEqual({ after: "08:00", before: "20:00", timezone: "UTC", days_of_week: [1, 5] });
  });
});
