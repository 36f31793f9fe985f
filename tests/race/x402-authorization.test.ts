import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { pay } from "../../lib/sdk/x402";
import { client } from "../helpers/http";
import { fundedPayer, overQuotaOrg, PRICE, startSecondInstance, startX402Stack, tokenBalance, type X402Stack } from "../helpers/x402";

/**
 * One x402 authorization presented to two Talon instances at once — two processes on one database
 * (PostgreSQL, or the same SQLite file) — settles exactly once: the unique (network, asset, payer,
 * nonce) claim picks one winner, the chain moves the price once, every other request gets 402.
 */
let stack: X402Stack;
let second: Awaited<ReturnType<typeof startSecondInstance>>;

beforeAll(async () => {
  stack = await startX402Stack();
  second = await startSecondInstance(stack);
}, 180_000);
afterAll(async () => {
  await second?.stop();
  await stack?.close();
});

describe("two instances racing one authorization", () => {
  test("exactly one request succeeds and one payment settles; the signature is in neither instance's log", async () => {
    const org = await overQuotaOrg(stack.server);
    const other = client(second.url, org.token);
    const refused = await other.get("/v1/vaults");
    expect(refused.status).toBe(402);
    expect(refused.body.accepts).toHaveLength(1);
    const payer = await fundedPayer(stack);
    const before = await tokenBalance(stack.node, stack.usdc, payer.address);
    const header = await pay(refused.body.accepts[0], payer);
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? org.api : other).get("/v1/vaults", { "X-PAYMENT": header })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    const losers = results.filter((r) => r.status === 402);
    expect(losers).toHaveLength(7);
    for (const l of losers) expect(l.body.error).toBe("invalid_transaction_state");
    expect(await stack.server.rt.db.x402Payment.count({ where: { orgId: org.orgId } })).toBe(1);
    expect(await stack.server.rt.db.x402Payment.count({ where: { orgId: org.orgId, status: "settled" } })).toBe(1);
    expect(await tokenBalance(stack.node, stack.usdc, payer.address)).toBe(before - PRICE);

    // Positive control on the second instance alone: a fresh authorization pays there.
    const fresh = await other.get("/v1/vaults", { "X-PAYMENT": await pay(refused.body.accepts[0], payer) });
    expect(fresh.status).toBe(200);
    expect(fresh.headers.get("x-payment-response")).toBeTruthy();

    const signature: string = JSON.parse(Buffer.from(header, "base64").toString()).payload.signature;
    expect(second.output()).toContain("listening");
    expect(second.output()).not.toContain(signature.slice(2, 66));
    expect(second.output()).not.toContain(header.slice(0, 40));
  });
});
