import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { encodeFunctionData, type Hex, hexToSignature } from "viem";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { pay } from "../../lib/sdk/x402";
import { CONTRACTS } from "../helpers/evm-node";
import { fundedPayer, overQuotaOrg, PRICE, startX402Stack, tokenBalance, type X402Stack } from "../helpers/x402";

/**
 * TALON_X402_FACILITATOR_URL instead of a settlement key: Talon still verifies and claims the
 * authorization itself, hands settlement to the facilitator's POST /settle (x402's request shape),
 * and believes its answer only when the chain shows that transaction mined successfully. The
 * facilitator here is a real loopback HTTP server that settles on the test chain from an unlocked
 * Hardhat account — or, when told to lie, answers with the hash of a reverted transaction.
 */
let stack: X402Stack;
let facilitator: Server;
let mode: "honest" | "lying" | "refusing" = "honest";
const seen: Array<{ x402Version: number; paymentPayload: { network: string }; paymentRequirements: { maxAmountRequired: string; payTo: string } }> = [];

async function settle(body: (typeof seen)[number] & { paymentPayload: { payload: { signature: Hex; authorization: Record<string, string> } } }) {
  const a = body.paymentPayload.payload.authorization;
  const { r, s, v } = hexToSignature(body.paymentPayload.payload.signature);
  const args = [a.from, a.to, BigInt(a.value!), BigInt(a.validAfter!), BigInt(a.validBefore!), a.nonce, Number(v), r, s] as const;
  // Lying: a transaction that reverts (the nonce flipped), presented as the settlement.
  const nonce = mode === "lying" ? `0x${"ee".repeat(32)}` : a.nonce;
  const data = encodeFunctionData({ abi: CONTRACTS.TestUsdc.abi, functionName: "transferWithAuthorization", args: [...args.slice(0, 5), nonce, ...args.slice(6)] as never });
  const sent = await stack.node.send({ from: stack.node.accounts[2]!, to: stack.usdc, data });
  return { success: true, transaction: sent.hash, network: "localhost", payer: a.from };
}

beforeAll(async () => {
  facilitator = createServer((req, res) => {
    let raw = "";
    req.on("data", (c: Buffer) => (raw += c.toString()));
    req.on("end", () => {
      void (async () => {
        const body = JSON.parse(raw);
        seen.push(body);
        const answer =
          req.url !== "/settle" ? { error: "not found" }
          : mode === "refusing" ? { success: false, errorReason: "insufficient_funds", transaction: "", network: "localhost", payer: "" }
          : await settle(body);
        res.writeHead(req.url === "/settle" ? 200 : 404, { "content-type": "application/json" });
        res.end(JSON.stringify(answer));
      })();
    });
  });
  await new Promise<void>((resolve) => facilitator.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(facilitator.address() as AddressInfo).port}`;
  stack = await startX402Stack({ TALON_X402_SETTLEMENT_KEY: "", TALON_X402_FACILITATOR_URL: url });
}, 180_000);
afterAll(async () => {
  await stack?.close();
  facilitator?.closeAllConnections();
  await new Promise((r) => facilitator?.close(r));
});

describe("settling through a facilitator", () => {
  test("the facilitator settles, Talon checks the transaction on chain and serves the request", async () => {
    expect(stack.server.rt.config.x402?.settlement.kind).toBe("facilitator");
    mode = "honest";
    const org = await overQuotaOrg(stack.server);
    const payer = await fundedPayer(stack);
    const refused = await org.api.get("/v1/vaults");
    expect(refused.status).toBe(402);
    const before = await tokenBalance(stack.node, stack.usdc, payer.address);
    const paid = await org.api.get("/v1/vaults", { "X-PAYMENT": await pay(refused.body.accepts[0], payer) });
    expect(paid.status).toBe(200);
    expect(await tokenBalance(stack.node, stack.usdc, payer.address)).toBe(before - PRICE);
    const last = seen.at(-1)!;
    expect(last).toMatchObject({ x402Version: 1, paymentPayload: { network: "localhost" }, paymentRequirements: { maxAmountRequired: PRICE.toString(), payTo: stack.payTo } });
    const row = await stack.server.rt.db.x402Payment.findFirstOrThrow({ where: { orgId: org.orgId } });
    expect(row.status).toBe("settled");
  });

  test("a facilitator that refuses, or names a reverted transaction, gets no request served", async () => {
    const org = await overQuotaOrg(stack.server);
    const payer = await fundedPayer(stack);
    const req = (await org.api.get("/v1/vaults")).body.accepts[0];
    mode = "refusing";
    const refused = await org.api.get("/v1/vaults", { "X-PAYMENT": await pay(req, payer) });
    expect(refused.status).toBe(402);
    expect(refused.body.error).toBe("insufficient_funds");
    expect(refused.body.detail).toContain("The x402 facilitator did not settle");
    mode = "lying";
    const lied = await org.api.get("/v1/vaults", { "X-PAYMENT": await pay(req, payer) });
    expect(lied.status).toBe(402);
    expect(lied.body.detail).toContain("is not a successful one on localhost");
    expect(await stack.server.rt.db.x402Payment.count({ where: { orgId: org.orgId, status: "failed" } })).toBe(2);
    mode = "honest";
    expect((await org.api.get("/v1/vaults", { "X-PAYMENT": await pay(req, payer) })).status).toBe(200);
  });
});
