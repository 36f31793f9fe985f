import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { encodeFunctionData, getAddress, type Hex, parseEther, toHex } from "viem";
import { generatePrivateKey, privateKeyToAccount, publicKeyToAddress } from "viem/accounts";
import { meterFor } from "../../server/billing/metering";
import { periodOf } from "../../server/billing/tiers";
import { loadConfig } from "../../server/config";
import { openKeystore } from "../../server/keystore";
import { ensureSoftHsmToken } from "../../server/keystore/softhsm-setup";
import { signUpVerified } from "./accounts";
import { type ApiProcess, NO_RATE_LIMITS, startApiProcess } from "./api-process";
import { CONTRACTS, type EvmNode, startEvmNode } from "./evm-node";
import { client } from "./http";
import { createPostgresDatabase, startTestServer, type TestServer, testDialect } from "./server";

/** One request costs 0.01 of the 6-decimal test token. */
export const PRICE = 10_000n;
export const TOKEN_NAME = "Talon Test USD";

export type X402Stack = {
  node: EvmNode;
  server: TestServer;
  usdc: Hex;
  payTo: Hex;
  settlement: Hex;
  /** The environment the server runs with (a second instance on the same data dir and database reuses it). */
  env: Record<string, string>;
  close(): Promise<void>;
};

/**
 * A real local chain with an EIP-3009 token, a settlement key generated in the data dir's SoftHSM
 * token (before the server starts, as an operator would with npm run x402:settlement-key) and funded
 * with gas, and a Talon server with billing on and x402 configured against all of it.
 */
export async function startX402Stack(extraEnv: Record<string, string> = {}): Promise<X402Stack> {
  const node = await startEvmNode();
  const usdc = getAddress(await node.deploy("TestUsdc", { types: [{ type: "string" }, { type: "address" }, { type: "uint256" }], values: [TOKEN_NAME, node.accounts[0], 10n ** 15n] }));
  const payTo = privateKeyToAccount(generatePrivateKey()).address;
  const dataDir = mkdtempSync(path.join(tmpdir(), "talon-x402-"));
  ensureSoftHsmToken(dataDir, "talon");
  const keystore = await openKeystore(loadConfig({ TALON_DATA_DIR: dataDir, TALON_LOG_LEVEL: "error" }));
  const { keyRef, publicKey } = await keystore.secp256k1!.generate();
  await keystore.close();
  const settlement = getAddress(publicKeyToAddress(toHex(publicKey)));
  await node.send({ from: node.accounts[0]!, to: settlement, value: parseEther("10") });
  const pgDb = testDialect === "postgres" ? await createPostgresDatabase() : null;
  const databaseUrl = pgDb?.url ?? `file:${path.join(dataDir, "talon.db")}`;
  const env = {
    TALON_BILLING: "on",
    TALON_CHAIN_RPC_URLS: `localhost=${node.url}`,
    TALON_X402_PAY_TO: payTo,
    TALON_X402_NETWORK: "localhost",
    TALON_X402_ASSET: usdc,
    TALON_X402_PRICE: PRICE.toString(),
    TALON_X402_SETTLEMENT_KEY: `hsm:${keyRef}`,
    ...extraEnv,
  };
  const server = await startTestServer({ existing: { dataDir, databaseUrl }, env });
  return {
    node,
    server,
    usdc,
    payTo,
    settlement,
    env,
    async close() {
      await server.close();
      await pgDb?.drop();
      await node.close();
    },
  };
}

export async function tokenBalance(node: EvmNode, usdc: Hex, holder: Hex): Promise<bigint> {
  const data = encodeFunctionData({ abi: CONTRACTS.TestUsdc.abi, functionName: "balanceOf", args: [holder] });
  return BigInt(await node.rpc<Hex>("eth_call", [{ to: usdc, data }, "latest"]));
}

/** A fresh payer holding `amount` tokens and no ether: EIP-3009 payments cost the payer no gas. */
export async function fundedPayer(stack: X402Stack, amount = PRICE * 100n) {
  const account = privateKeyToAccount(generatePrivateKey());
  const data = encodeFunctionData({ abi: CONTRACTS.TestUsdc.abi, functionName: "transfer", args: [account.address, amount] });
  const r = await stack.node.send({ from: stack.node.accounts[0]!, to: stack.usdc, data });
  if (r.status !== "0x1") throw new Error("funding the payer failed");
  return account;
}

/** A verified user whose free-tier org has used its whole month and pays past it with x402. */
export async function overQuotaOrg(server: TestServer) {
  const user = await signUpVerified(server, { tier: "free" });
  const api = client(server.url, user.token);
  const set = await api.patch("/v1/billing/overage-method", { method: "x402" });
  if (set.status !== 200) throw new Error(`overage method: ${set.status} ${set.text}`);
  await meterFor(server.rt).reset(user.orgId);
  const period = periodOf(Date.now());
  await server.rt.db.usagePeriod.upsert({
    where: { orgId_period: { orgId: user.orgId, period } },
    create: { orgId: user.orgId, period, requests: 1000 },
    update: { requests: 1000 },
  });
  return { ...user, api };
}

/** A second instance of the stack's server in its own process (same database, data dir and settings). */
export async function startSecondInstance(stack: X402Stack): Promise<ApiProcess> {
  const env = {
    ...stack.env,
    TALON_DATA_DIR: stack.server.dataDir,
    DATABASE_URL: stack.server.databaseUrl,
    // One deployment behind one URL: tokens the first instance issued name it as their issuer.
    TALON_PUBLIC_URL: stack.server.rt.config.publicUrl,
    TALON_LOG_LEVEL: "debug",
    ...NO_RATE_LIMITS,
  };
  return startApiProcess(env, { migrate: false, jobs: false });
}
