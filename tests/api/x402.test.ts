import { encodeFunctionData, type Hex, hexToSignature } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createClient } from "../../lib/sdk";
import { decodePaymentResponse, getPaymentRequirement, pay, withPayment, type X402Requirement } from "../../lib/sdk/x402";
import { loadConfig } from "../../server/config";
import { meterFor } from "../../server/billing/metering";
import { talon } from "../cli/helpers";
import { CONTRACTS } from "../helpers/evm-node";
import { fundedPayer, overQuotaOrg, PRICE, startX402Stack, TOKEN_NAME, tokenBalance, type X402Stack } from "../helpers/x402";

/**
 * x402 pay-per-request against a real local chain: an EIP-3009 token, a payer holding it (and no
 * ether), Talon settling with its HSM key. Each refusal sits beside the paid request that proves the
 * same org, payer and server can pay.
 */
let stack: X402Stack;

beforeAll(async () => {
  stack = await startX402Stack();
}, 180_000);
afterAll(async () => {
  await stack?.close();
});

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64");
const unb64 = (s: string) => JSON.parse(Buffer.from(s, "base64").toString("utf8"));

async function requirementFor(api: Awaited<ReturnType<typeof overQuotaOrg>>["api"]): Promise<X402Requirement> {
  const refused = await api.get("/v1/vaults");
  expect(refused.status).toBe(402);
  return (await getPaymentRequirement(refused.body))!;
}

describe("configuration", () => {
  const base = { TALON_CHAIN_RPC_URLS: "localhost=http://127.0.0.1:8545", TALON_X402_PAY_TO: `0x${"1".repeat(40)}`, TALON_X402_NETWORK: "localhost", TALON_X402_ASSET: `0x${"2".repeat(40)}`, TALON_X402_PRICE: "10000", TALON_X402_SETTLEMENT_KEY: `hsm:${"a".repeat(32)}` };
  test("a complete x402 configuration loads; each mistake stops start-up with one line naming the variable", () => {
    expect(loadConfig(base).x402).toMatchObject({ network: "localhost", price: 10000n, settlement: { kind: "hsm", keyRef: "a".repeat(32) } });
    const err = (env: Record<string, string | undefined>) => {
      try {
        loadConfig({ ...base, ...env });
        return "loaded";
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(err({ TALON_X402_PRICE: undefined })).toBe("Invalid configuration: TALON_X402_PRICE is required when any TALON_X402_* variable is set");
    expect(err({ TALON_X402_PRICE: "0" })).toMatch(/^Invalid configuration: TALON_X402_PRICE /);
    expect(err({ TALON_X402_PAY_TO: "0x12" })).toMatch(/^Invalid configuration: TALON_X402_PAY_TO /);
    expect(err({ TALON_X402_NETWORK: "dogechain" })).toMatch(/^Invalid configuration: TALON_X402_NETWORK /);
    expect(err({ TALON_CHAIN_RPC_URLS: undefined })).toMatch(/^Invalid configuration: TALON_X402_NETWORK localhost has no RPC URL/);
    expect(err({ TALON_X402_FACILITATOR_URL: "https://facilitator.example" })).toMatch(/^Invalid configuration: TALON_X402_SETTLEMENT_KEY must be set, or TALON_X402_FACILITATOR_URL instead/);
    expect(err({ TALON_X402_SETTLEMENT_KEY: undefined })).toMatch(/TALON_X402_SETTLEMENT_KEY must be set/);
    expect(err({ TALON_X402_SETTLEMENT_KEY: "0xdeadbeef" })).toMatch(/^Invalid configuration: TALON_X402_SETTLEMENT_KEY must be hsm:<key id>/);
    expect(err({ TALON_X402_SETTLEMENT_KEY: undefined, TALON_X402_FACILITATOR_URL: "https://facilitator.example" })).toBe("loaded");
    expect(loadConfig({}).x402).toBeUndefined();
  });
});

describe("discovery and the overage method", () => {
  test("/.well-known/x402 describes what is payable, with the token's EIP-712 domain read from the chain", async () => {
    const res = await fetch(`${stack.server.url}/.well-known/x402`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ x402Version: 1, enabled: true });
    expect(body.accepts).toEqual([
      {
        scheme: "exact",
        network: "localhost",
        maxAmountRequired: PRICE.toString(),
        description: expect.any(String),
        mimeType: "application/json",
        payTo: stack.payTo,
        maxTimeoutSeconds: 300,
        asset: stack.usdc,
        extra: { name: TOKEN_NAME, version: "2" },
      },
    ]);
  });

  test("with x402 configured an owner may choose it; an agent may not", async () => {
    const { api } = await overQuotaOrg(stack.server);
    expect((await api.get("/v1/billing/subscription")).body.overage_method).toBe("x402");
    expect((await api.patch("/v1/billing/overage-method", { method: "credits" })).status).toBe(200);
    expect((await api.patch("/v1/billing/overage-method", { overage_method: "x402" })).body).toEqual({ overage_method: "x402" });
  });
});

describe("paying per request", () => {
  test("over quota: 402 with PaymentRequirements; the SDK's withPayment signs, Talon settles on chain, the request runs once", async () => {
    const org = await overQuotaOrg(stack.server);
    const refused = await org.api.get("/v1/vaults");
    expect(refused.status).toBe(402);
    expect(refused.headers.get("content-type")).toContain("application/problem+json");
    expect(refused.body).toMatchObject({ status: 402, x402Version: 1, error: "X-PAYMENT header is required" });
    expect(refused.body.detail).toContain("pays past it per request with x402");
    expect(refused.body.accepts).toEqual([
      expect.objectContaining({ scheme: "exact", network: "localhost", maxAmountRequired: "10000", resource: `${stack.server.rt.config.publicUrl}/v1/vaults`, payTo: stack.payTo, asset: stack.usdc, extra: { name: TOKEN_NAME, version: "2" } }),
    ]);
    expect(refused.headers.get("x-ratelimit-requests-used")).toBe("1000");

    const payer = await fundedPayer(stack);
    const [payerBefore, payToBefore] = [await tokenBalance(stack.node, stack.usdc, payer.address), await tokenBalance(stack.node, stack.usdc, stack.payTo)];
    const settlements: Array<ReturnType<typeof decodePaymentResponse>> = [];
    const paying = withPayment(fetch, payer, { maxAmount: PRICE, onPayment: (s) => settlements.push(s) });
    const talon = createClient({ baseUrl: stack.server.url, token: org.token, fetch: paying });
    const created = await talon.vaults.create({ name: "paid-for" });
    expect(created.error).toBeNull();
    expect(created.data?.name).toBe("paid-for");

    expect(settlements).toHaveLength(1);
    const s = settlements[0]!;
    expect(s).toMatchObject({ success: true, network: "localhost", payer: payer.address });
    expect(s!.transaction).toMatch(/^0x[0-9a-f]{64}$/);
    const receipt = await stack.node.rpc<{ status: Hex; from: Hex; to: Hex }>("eth_getTransactionReceipt", [s!.transaction]);
    expect(receipt.status).toBe("0x1");
    expect(receipt.from.toLowerCase()).toBe(stack.settlement.toLowerCase());
    expect(await tokenBalance(stack.node, stack.usdc, payer.address)).toBe(payerBefore - PRICE);
    expect(await tokenBalance(stack.node, stack.usdc, stack.payTo)).toBe(payToBefore + PRICE);

    // Recorded: payment row, one overage request, a ledger row, an audit event, and the listing.
    const rows = await stack.server.rt.db.x402Payment.findMany({ where: { orgId: org.orgId } });
    expect(rows).toEqual([expect.objectContaining({ status: "settled", txHash: s!.transaction, payer: payer.address, amount: "10000", resource: "POST /v1/vaults" })]);
    const ledger = await stack.server.rt.db.creditTransaction.findMany({ where: { orgId: org.orgId, kind: "x402" } });
    expect(ledger).toHaveLength(1);
    expect(ledger[0]!.amount).toBe(0n);
    expect(ledger[0]!.description).toContain(s!.transaction);
    const audit = await stack.server.rt.db.auditEvent.findMany({ where: { orgId: org.orgId, action: "billing.x402.payment" } });
    expect(audit).toHaveLength(1);
    expect(JSON.parse(audit[0]!.details)).toMatchObject({ outcome: "settled", tx_hash: s!.transaction, payer: payer.address, amount: "10000" });
    const listed = await org.api.get("/v1/billing/x402/payments");
    expect(listed.status).toBe(200);
    expect(listed.body.payments).toEqual([expect.objectContaining({ status: "settled", tx_hash: s!.transaction, amount: "10000", pay_to: stack.payTo, resource: "POST /v1/vaults" })]);
    expect((await org.api.get("/v1/billing/usage")).body.overage_requests).toBe(1);
    const viaSdk = await createClient({ baseUrl: stack.server.url, token: org.token }).billing.x402Payments(10);
    expect(viaSdk.data?.payments.map((p) => p.tx_hash)).toEqual([s!.transaction]);
    expect((await org.api.get("/v1/billing/x402/payments?limit=0")).status).toBe(400);

    // One payment, one request: the next one is refused again.
    expect((await org.api.get("/v1/vaults")).status).toBe(402);
  });

  test("pay() builds a header a plain fetch can send; the answer carries X-PAYMENT-RESPONSE", async () => {
    const org = await overQuotaOrg(stack.server);
    const payer = await fundedPayer(stack);
    const header = await pay(await requirementFor(org.api), payer);
    const decoded = unb64(header);
    expect(decoded).toMatchObject({ x402Version: 1, scheme: "exact", network: "localhost", payload: { authorization: { from: payer.address, to: stack.payTo, value: "10000" } } });
    const paid = await org.api.get("/v1/vaults", { "X-PAYMENT": header });
    expect(paid.status).toBe(200);
    expect(decodePaymentResponse(paid.headers.get("x-payment-response"))).toMatchObject({ success: true, payer: payer.address });
  });

  test("replay: the same authorization buys nothing a second time", async () => {
    const org = await overQuotaOrg(stack.server);
    const payer = await fundedPayer(stack);
    const header = await pay(await requirementFor(org.api), payer);
    expect((await org.api.get("/v1/vaults", { "X-PAYMENT": header })).status).toBe(200);
    const balance = await tokenBalance(stack.node, stack.usdc, payer.address);
    const replay = await org.api.get("/v1/vaults", { "X-PAYMENT": header });
    expect(replay.status).toBe(402);
    expect(replay.body.error).toBe("invalid_transaction_state");
    expect(replay.body.detail).toContain("already presented");
    expect(replay.body.accepts).toHaveLength(1);
    expect(await tokenBalance(stack.node, stack.usdc, payer.address)).toBe(balance);
    // Another org presenting it fares no better.
    const other = await overQuotaOrg(stack.server);
    expect((await other.api.get("/v1/vaults", { "X-PAYMENT": header })).body.error).toBe("invalid_transaction_state");
  });

  test("refused before any money moves: too little, expired, wrong recipient, forged signature, other network, garbage", async () => {
    const org = await overQuotaOrg(stack.server);
    const payer = await fundedPayer(stack);
    const req = await requirementFor(org.api);
    const before = await tokenBalance(stack.node, stack.usdc, payer.address);
    const refusal = async (header: string) => {
      const r = await org.api.get("/v1/vaults", { "X-PAYMENT": header });
      expect(r.status).toBe(402);
      expect(r.body.accepts).toHaveLength(1);
      return r.body.error as string;
    };
    expect(await refusal(await pay(req, payer, { amount: PRICE - 1n }))).toBe("invalid_exact_evm_payload_authorization_value");
    expect(await refusal(await pay(req, payer, { now: Math.floor(Date.now() / 1000) - 3600 }))).toBe("invalid_exact_evm_payload_authorization_valid_before");
    const stranger = privateKeyToAccount(generatePrivateKey());
    expect(await refusal(await pay({ ...req, payTo: stranger.address }, payer))).toBe("invalid_exact_evm_payload_recipient_mismatch");
    const forged = { address: payer.address, signTypedData: stranger.signTypedData.bind(stranger) } as typeof payer;
    expect(await refusal(await pay(req, forged))).toBe("invalid_exact_evm_payload_signature");
    // Signed for another token (EIP-712 domain): the signature does not verify for ours.
    expect(await refusal(await pay({ ...req, extra: { name: "USD Coin", version: "2" } }, payer))).toBe("invalid_exact_evm_payload_signature");
    const onBase = unb64(await pay(req, payer));
    expect(await refusal(b64({ ...onBase, network: "base" }))).toBe("invalid_network");
    expect(await refusal(b64({ ...onBase, scheme: "upto" }))).toBe("unsupported_scheme");
    expect(await refusal("not base64!")).toBe("invalid_payload");
    expect(await refusal(b64({ ...onBase, extra: 1 }))).toBe("invalid_payload");
    const poor = privateKeyToAccount(generatePrivateKey());
    expect(await refusal(await pay(req, poor))).toBe("insufficient_funds");
    expect(await tokenBalance(stack.node, stack.usdc, payer.address)).toBe(before);
    expect(await stack.server.rt.db.x402Payment.count({ where: { orgId: org.orgId } })).toBe(0);
    // The positive control: the same payer, org and requirement pay fine.
    expect((await org.api.get("/v1/vaults", { "X-PAYMENT": await pay(req, payer) })).status).toBe(200);
  });

  test("an authorization already used on chain (front-run by someone else) is refused by authorizationState", async () => {
    const org = await overQuotaOrg(stack.server);
    const payer = await fundedPayer(stack);
    const header = await pay(await requirementFor(org.api), payer);
    const a = unb64(header).payload;
    const { r, s, v } = hexToSignature(a.signature);
    const auth = a.authorization;
    const data = encodeFunctionData({
      abi: CONTRACTS.TestUsdc.abi,
      functionName: "transferWithAuthorization",
      args: [auth.from, auth.to, BigInt(auth.value), BigInt(auth.validAfter), BigInt(auth.validBefore), auth.nonce, Number(v), r, s],
    });
    expect((await stack.node.send({ from: stack.node.accounts[1]!, to: stack.usdc, data })).status).toBe("0x1");
    const refused = await org.api.get("/v1/vaults", { "X-PAYMENT": header });
    expect(refused.status).toBe(402);
    expect(refused.body.detail).toContain("already used on chain");
  });

  test("settlement failure: 402 again with the reason, the payment recorded failed, the authorization spent; a new one pays", async () => {
    const org = await overQuotaOrg(stack.server);
    const payer = await fundedPayer(stack);
    const req = await requirementFor(org.api);
    const header = await pay(req, payer);
    const gas = await stack.node.rpc<Hex>("eth_getBalance", [stack.settlement, "latest"]);
    await stack.node.rpc("hardhat_setBalance", [stack.settlement, "0x0"]);
    let failed;
    try {
      failed = await org.api.get("/v1/vaults", { "X-PAYMENT": header });
    } finally {
      await stack.node.rpc("hardhat_setBalance", [stack.settlement, gas]);
    }
    expect(failed.status).toBe(402);
    expect(failed.body.detail).toMatch(/^Monthly request quota reached; .* Payment refused: /);
    expect(failed.body.accepts).toHaveLength(1);
    const rows = await stack.server.rt.db.x402Payment.findMany({ where: { orgId: org.orgId } });
    expect(rows).toEqual([expect.objectContaining({ status: "failed", txHash: null })]);
    expect(rows[0]!.error).toBeTruthy();
    expect((await org.api.get("/v1/billing/x402/payments")).body.payments[0]).toMatchObject({ status: "failed", tx_hash: null });
    expect((await org.api.get("/v1/vaults", { "X-PAYMENT": header })).body.error).toBe("invalid_transaction_state");
    expect((await org.api.get("/v1/vaults", { "X-PAYMENT": await pay(req, payer) })).status).toBe(200);
  });

  test("concurrent requests with one authorization in one instance: exactly one settles", async () => {
    const org = await overQuotaOrg(stack.server);
    const payer = await fundedPayer(stack);
    const before = await tokenBalance(stack.node, stack.usdc, payer.address);
    const header = await pay(await requirementFor(org.api), payer);
    const results = await Promise.all(Array.from({ length: 6 }, () => org.api.get("/v1/vaults", { "X-PAYMENT": header })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 402)).toHaveLength(5);
    expect(await stack.server.rt.db.x402Payment.count({ where: { orgId: org.orgId, status: "settled" } })).toBe(1);
    expect(await tokenBalance(stack.node, stack.usdc, payer.address)).toBe(before - PRICE);
  });

  test("an org with quota left or paying with credits is never asked for x402", async () => {
    const org = await overQuotaOrg(stack.server);
    await stack.server.rt.db.usagePeriod.updateMany({ where: { orgId: org.orgId }, data: { requests: 10 } });
    const payer = await fundedPayer(stack);
    const before = await tokenBalance(stack.node, stack.usdc, payer.address);
    // The discovery document is enough to pay ahead of a 402.
    const header = await pay((await getPaymentRequirement(await fetch(`${stack.server.url}/.well-known/x402`).then((r) => r.json())))!, payer);
    // A payment offered while quota is left is not taken.
    const free = await org.api.get("/v1/vaults", { "X-PAYMENT": header });
    expect(free.status).toBe(200);
    expect(free.headers.get("x-payment-response")).toBeNull();
    expect(await tokenBalance(stack.node, stack.usdc, payer.address)).toBe(before);

    const credits = await overQuotaOrg(stack.server);
    expect((await credits.api.patch("/v1/billing/overage-method", { method: "credits" })).status).toBe(200);
    const refused = await credits.api.get("/v1/vaults", { "X-PAYMENT": header });
    expect(refused.status).toBe(402);
    expect(refused.body.accepts).toBeUndefined();
  });
});

describe("canary: the payer's signature stays out of every record", () => {
  test("payment rows, ledger, audit and the listing hold the payer and the hash, never the signature", async () => {
    const org = await overQuotaOrg(stack.server);
    const payer = await fundedPayer(stack);
    const header = await pay(await requirementFor(org.api), payer);
    const signature: string = unb64(header).payload.signature;
    expect((await org.api.get("/v1/vaults", { "X-PAYMENT": header })).status).toBe(200);
    const db = stack.server.rt.db;
    const dumps = JSON.stringify({
      payments: await db.x402Payment.findMany(),
      ledger: await db.creditTransaction.findMany({ select: { description: true, kind: true } }),
      audit: await db.auditEvent.findMany({ select: { details: true, action: true } }),
      listing: (await org.api.get("/v1/billing/x402/payments")).body,
      events: (await org.api.get("/v1/audit/events?limit=100")).text,
    });
    expect(dumps).toContain(payer.address);
    // Another org's listing holds none of it (the payment is this org's alone).
    const other = await overQuotaOrg(stack.server);
    const theirs = await other.api.get("/v1/billing/x402/payments");
    expect(theirs.status).toBe(200);
    expect(theirs.body.payments).toEqual([]);
    for (const needle of [signature.slice(2, 66), signature.slice(66, 130), header.slice(0, 40)]) expect(dumps.toLowerCase()).not.toContain(needle.toLowerCase());
  });
});

describe("CLI --x402-key-file", () => {
  test("an agent's talon command pays past the quota with the key in the file, within --x402-max-amount only", async () => {
    const org = await overQuotaOrg(stack.server);
    // The agent is registered while the org still has quota, as it would have been before running out.
    await meterFor(stack.server.rt).reset(org.orgId);
    await stack.server.rt.db.usagePeriod.updateMany({ where: { orgId: org.orgId }, data: { requests: 0 } });
    const created = await org.api.post("/v1/agents", { name: "payer-agent" });
    expect(created.status).toBe(201);
    await meterFor(stack.server.rt).reset(org.orgId);
    await stack.server.rt.db.usagePeriod.updateMany({ where: { orgId: org.orgId }, data: { requests: 1000 } });

    const key = generatePrivateKey();
    const funded = privateKeyToAccount(key);
    const move = encodeFunctionData({ abi: CONTRACTS.TestUsdc.abi, functionName: "transfer", args: [funded.address, PRICE * 3n] });
    expect((await stack.node.send({ from: stack.node.accounts[0]!, to: stack.usdc, data: move })).status).toBe("0x1");
    const dir = mkdtempSync(path.join(tmpdir(), "talon-x402-cli-"));
    const keyFile = path.join(dir, "payer.key");
    writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });
    const badFile = path.join(dir, "bad.key");
    writeFileSync(badFile, "not-a-key-canary-77\n");
    const env = { ONECLAW_AGENT_ID: created.body.agent.id, ONECLAW_AGENT_API_KEY: created.body.api_key, HOME: dir };
    const run = (...extra: string[]) => talon(["vaults", "list", "--json", "--url", stack.server.url, ...extra], { env });
    try {
      const unpaid = await run();
      expect(unpaid.code).toBe(1);
      const tooDear = await run("--x402-key-file", keyFile, "--x402-max-amount", String(PRICE - 1n));
      expect(tooDear.code).toBe(1);
      expect(await tokenBalance(stack.node, stack.usdc, funded.address)).toBe(PRICE * 3n);

      const paid = await run("--x402-key-file", keyFile, "--x402-max-amount", String(PRICE));
      expect(paid.stderr).toMatch(/paid 10000 atomic units on localhost for this request \(transaction 0x[0-9a-f]{64}\)/);
      expect(paid.code).toBe(0);
      expect(Array.isArray(JSON.parse(paid.stdout).vaults ?? JSON.parse(paid.stdout))).toBe(true);
      expect(await tokenBalance(stack.node, stack.usdc, funded.address)).toBe(PRICE * 2n);
      expect(paid.stderr + paid.stdout).not.toContain(key.slice(2));

      const bad = await run("--x402-key-file", badFile, "--x402-max-amount", String(PRICE));
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("must hold a 0x-prefixed 32-byte hex private key");
      expect(bad.stderr).not.toContain("canary-77");
      expect((await run("--x402-key-file", keyFile)).code).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
