import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Meter, meterFor } from "../../server/billing/metering";
import { periodOf } from "../../server/billing/tiers";
import { signUpVerified } from "../helpers/accounts";
import { startTwinServers } from "../helpers/agents";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * The monthly quota under concurrency: exactly the quota succeeds, the rest get 402, and once the
 * reservations are back (periodic release) UsagePeriod.requests equals the successes exactly.
 */
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ env: { TALON_BILLING: "on", TALON_METER_BLOCK: "7", TALON_METER_RELEASE_MS: "150" } });
});
afterAll(async () => {
  await server?.close();
});

const period = () => periodOf(Date.now());
const usageRow = (orgId: string) => server.rt.db.usagePeriod.findUnique({ where: { orgId_period: { orgId, period: period() } } });

/** Waits for the idle release to hand reservations back, then returns the row. */
async function atRest(orgId: string, expected: number) {
  const deadline = Date.now() + 10_000;
  let row = await usageRow(orgId);
  while ((row?.requests ?? 0) !== expected && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    row = await usageRow(orgId);
  }
  return row;
}

async function setUsed(orgId: string, requests: number) {
  await meterFor(server.rt).releaseAll();
  await server.rt.db.usagePeriod.upsert({
    where: { orgId_period: { orgId, period: period() } },
    create: { orgId, period: period(), requests },
    update: { requests },
  });
}

describe("metered requests", () => {
  test("carry the quota headers; free routes neither count nor carry them", async () => {
    const { token, orgId } = await signUpVerified(server, { tier: "free" });
    const api = client(server.url, token);
    const first = await api.get("/v1/vaults");
    expect(first.status).toBe(200);
    expect(first.headers.get("x-ratelimit-requests-used")).toBe("1");
    expect(first.headers.get("x-ratelimit-requests-limit")).toBe("1000");
    expect(first.headers.get("x-overage-method")).toBe("credits");
    expect(first.headers.get("x-credit-balance-cents")).toBe("0.00");
    expect(first.headers.get("x-quota-warning")).toBeNull();
    const second = await api.get("/v1/vaults");
    expect(second.headers.get("x-ratelimit-requests-used")).toBe("2");
    // An error response of a metered route still counts and carries the headers.
    const missing = await api.get("/v1/vaults/00000000-0000-4000-8000-000000000000");
    expect(missing.status).toBe(404);
    expect(missing.headers.get("x-ratelimit-requests-used")).toBe("3");

    for (const free of ["/v1/auth/me", "/v1/billing/usage", "/v1/org/members", "/v1/health"]) {
      const r = await api.get(free);
      expect(r.status, free).toBe(200);
      expect(r.headers.get("x-ratelimit-requests-used"), free).toBeNull();
    }
    const usage = await api.get("/v1/billing/usage");
    expect(usage.body.requests_used).toBe(3);
    expect((await atRest(orgId, 3))?.requests).toBe(3);
  });

  test("warns from 80 % of the quota on", async () => {
    const { token, orgId } = await signUpVerified(server, { tier: "free" });
    await setUsed(orgId, 798);
    const api = client(server.url, token);
    const below = await api.get("/v1/vaults");
    expect(below.headers.get("x-ratelimit-requests-used")).toBe("799");
    expect(below.headers.get("x-quota-warning")).toBeNull();
    const at = await api.get("/v1/vaults");
    expect(at.headers.get("x-ratelimit-requests-used")).toBe("800");
    expect(at.headers.get("x-quota-warning")).toBe("80% of monthly quota used");
  });

  test("100 concurrent requests with 40 left: exactly 40 succeed, 60 get 402, and the count is exact at rest", async () => {
    const { token, orgId } = await signUpVerified(server, { tier: "free" });
    await setUsed(orgId, 960);
    const api = client(server.url, token);
    const results = await Promise.all(Array.from({ length: 100 }, () => api.get("/v1/vaults")));
    const ok = results.filter((r) => r.status === 200).length;
    const refused = results.filter((r) => r.status === 402);
    expect(ok).toBe(40);
    expect(refused.length).toBe(60);
    expect(refused[0]!.body.detail).toBe(
      `Monthly request quota reached (1000/1000 on free tier) and the credit balance does not cover another request. Top up credits or upgrade at ${server.rt.config.publicUrl}/settings/billing`,
    );
    expect(refused[0]!.headers.get("x-ratelimit-requests-used")).toBe("1000");
    expect(refused[0]!.headers.get("x-quota-warning")).toBe("100% of monthly quota used");
    const row = await atRest(orgId, 1000);
    expect(row?.requests).toBe(1000);
    expect(row?.overage).toBe(0);
    // Still refused after the release: the quota holds at rest too.
    expect((await api.get("/v1/vaults")).status).toBe(402);
  });

  test("two instances on one database never overshoot the quota together", async () => {
    const { orgId } = await signUpVerified(server, { tier: "free" });
    await setUsed(orgId, 900);
    const a = new Meter(server.rt, { block: 9, releaseMs: 60_000 });
    const b = new Meter(server.rt, { block: 13, releaseMs: 60_000 });
    const outcomes = await Promise.allSettled(Array.from({ length: 300 }, (_, i) => (i % 2 ? a : b).draw(orgId)));
    expect(outcomes.filter((o) => o.status === "fulfilled").length).toBe(100);
    expect(outcomes.filter((o) => o.status === "rejected").every((o) => (o as PromiseRejectedResult).reason.status === 402)).toBe(true);
    await a.close();
    await b.close();
    expect((await usageRow(orgId))?.requests).toBe(1000);
  });

  test("unused reservations go back: a burst of 5 leaves exactly 5 counted", async () => {
    const { token, orgId } = await signUpVerified(server, { tier: "free" });
    const api = client(server.url, token);
    const results = await Promise.all(Array.from({ length: 5 }, () => api.get("/v1/vaults")));
    expect(results.every((r) => r.status === 200)).toBe(true);
    // The block (7) was reserved up front; the idle release returns the 2 unused.
    expect((await atRest(orgId, 5))?.requests).toBe(5);
    const days = await server.rt.db.usageDay.findMany({ where: { orgId } });
    expect(days.reduce((n, d) => n + d.requests, 0)).toBe(5);
  });

  test("enterprise is unlimited and still counted", async () => {
    const { token, orgId } = await signUpVerified(server, { tier: "free" });
    await server.rt.db.org.update({ where: { id: orgId }, data: { tier: "enterprise" } });
    await setUsed(orgId, 5000);
    const r = await client(server.url, token).get("/v1/vaults");
    expect(r.status).toBe(200);
    expect(r.headers.get("x-ratelimit-requests-limit")).toBe("unlimited");
    expect((await atRest(orgId, 5001))?.requests).toBe(5001);
  });

  test("a busy unlimited org reserves growing blocks, and the count is still exact at rest", async () => {
    const { token, orgId } = await signUpVerified(server, { tier: "free" });
    await server.rt.db.org.update({ where: { id: orgId }, data: { tier: "enterprise" } });
    await setUsed(orgId, 0);
    const api = client(server.url, token);
    let reservedAhead = 0;
    for (let wave = 0; wave < 6; wave++) {
      const statuses = await Promise.all(Array.from({ length: 40 }, () => api.get("/v1/vaults").then((r) => r.status)));
      expect(statuses.every((s) => s === 200)).toBe(true);
      const row = await usageRow(orgId);
      reservedAhead = Math.max(reservedAhead, (row?.requests ?? 0) - (wave + 1) * 40);
    }
    // Blocks of 7 would hold at most 6 unused requests; grown blocks hold more while the org is busy.
    expect(reservedAhead).toBeGreaterThan(7);
    expect((await atRest(orgId, 240))?.requests).toBe(240);
  });
});

describe("two Talon instances behind a load balancer", () => {
  test("50 requests to each with 40 left in the month: exactly 40 succeed in total, and the count is exact at rest", async () => {
    const twins = await startTwinServers({ TALON_BILLING: "on", TALON_METER_BLOCK: "6", TALON_METER_RELEASE_MS: "150" });
    try {
      const { token, orgId } = await signUpVerified(twins.a, { tier: "free" });
      await twins.a.rt.db.usagePeriod.create({ data: { orgId, period: period(), requests: 960 } });
      const a = client(twins.a.url, token);
      const b = client(twins.b.url, token);
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).get("/v1/vaults")));
      expect(results.filter((r) => r.status === 200).length).toBe(40);
      expect(results.filter((r) => r.status === 402).length).toBe(60);
      const deadline = Date.now() + 10_000;
      let row = await twins.a.rt.db.usagePeriod.findUnique({ where: { orgId_period: { orgId, period: period() } } });
      while (row?.requests !== 1000 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        row = await twins.a.rt.db.usagePeriod.findUnique({ where: { orgId_period: { orgId, period: period() } } });
      }
      expect(row?.requests).toBe(1000);
    } finally {
      await twins.close();
    }
  });
});

describe("shutdown", () => {
  test("closing an instance hands its unused reservation back at once", async () => {
    const twins = await startTwinServers({ TALON_BILLING: "on", TALON_METER_BLOCK: "20", TALON_METER_RELEASE_MS: "600000" });
    try {
      const { token, orgId } = await signUpVerified(twins.a, { tier: "free" });
      for (let i = 0; i < 3; i++) expect((await client(twins.a.url, token).get("/v1/vaults")).status).toBe(200);
      const row = () => twins.b.rt.db.usagePeriod.findUnique({ where: { orgId_period: { orgId, period: period() } } });
      expect((await row())?.requests).toBe(20);
      await twins.a.close();
      expect((await row())?.requests).toBe(3);
    } finally {
      await twins.close();
    }
  });
});
