import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { meterFor } from "../../server/billing/metering";
import { periodOf } from "../../server/billing/tiers";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * Credit draws past the quota under concurrency: exactly floor(balance / price) requests succeed,
 * the balance ends at initial − N × price (never negative), and the ledger adds up to the balance.
 */
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ env: { TALON_BILLING: "on", TALON_METER_BLOCK: "4", TALON_METER_RELEASE_MS: "150" } });
});
afterAll(async () => {
  await server?.close();
});

async function orgAtQuota(tier: "free" | "pro", balanceMillicents: bigint) {
  const account = await signUpVerified(server, { tier });
  const period = periodOf(Date.now());
  const quota = tier === "free" ? 1000 : 25_000;
  await server.rt.db.usagePeriod.create({ data: { orgId: account.orgId, period, requests: quota } });
  await server.rt.db.org.update({ where: { id: account.orgId }, data: { creditBalance: balanceMillicents } });
  return { ...account, period, quota };
}

async function settled(orgId: string) {
  await meterFor(server.rt).releaseAll();
  const org = await server.rt.db.org.findUniqueOrThrow({ where: { id: orgId } });
  const ledger = await server.rt.db.creditTransaction.findMany({ where: { orgId } });
  return { balance: org.creditBalance, ledgerSum: ledger.reduce((s, t) => s + t.amount, 0n), ledger };
}

describe("credits past the quota", () => {
  test("free tier at 100 millicents a request: 10.5 requests' worth of credit buys exactly 10 of 40", async () => {
    const { token, orgId, period } = await orgAtQuota("free", 1050n);
    const api = client(server.url, token);
    const results = await Promise.all(Array.from({ length: 40 }, () => api.get("/v1/vaults")));
    const ok = results.filter((r) => r.status === 200);
    expect(ok.length).toBe(10);
    expect(results.filter((r) => r.status === 402).length).toBe(30);
    expect(ok[0]!.headers.get("x-ratelimit-requests-used")).toBe("1000");
    expect(ok[0]!.headers.get("x-overage-method")).toBe("credits");
    const refusal = results.find((r) => r.status === 402)!;
    expect(refusal.body.detail).toContain("Top up credits or upgrade at");

    const { balance, ledgerSum, ledger } = await settled(orgId);
    expect(balance).toBe(50n);
    expect(ledgerSum).toBe(50n - 1050n);
    expect(ledger.every((t) => t.kind === "overage" || t.kind === "overage_refund")).toBe(true);
    const usage = await server.rt.db.usagePeriod.findUniqueOrThrow({ where: { orgId_period: { orgId, period } } });
    expect(usage.requests).toBe(1000);
    expect(usage.overage).toBe(10);

    const after = await api.get("/v1/billing/usage");
    expect(after.body.overage_requests).toBe(10);
    expect((await api.get("/v1/billing/credits/balance")).body.balance_cents).toBe(0.05);
  });

  test("pro tier at 80 millicents: 25 concurrent draws from 2,000 take it to exactly 0", async () => {
    const { token, orgId } = await orgAtQuota("pro", 2000n);
    const api = client(server.url, token);
    const results = await Promise.all(Array.from({ length: 60 }, () => api.get("/v1/vaults")));
    expect(results.filter((r) => r.status === 200).length).toBe(25);
    expect(results.filter((r) => r.status === 402).length).toBe(35);
    const { balance, ledgerSum } = await settled(orgId);
    expect(balance).toBe(0n);
    expect(ledgerSum).toBe(-2000n);
  });

  test("the balance header counts down as credits are drawn", async () => {
    const { token } = await orgAtQuota("free", 100_000n);
    const api = client(server.url, token);
    const first = await api.get("/v1/vaults");
    expect(first.status).toBe(200);
    expect(first.headers.get("x-credit-balance-cents")).toBe("99.90");
    const second = await api.get("/v1/vaults");
    expect(second.headers.get("x-credit-balance-cents")).toBe("99.80");
  });
});
