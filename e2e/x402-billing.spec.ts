import type { Browser } from "playwright-core";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ensureBuild } from "../scripts/talon-process";
import { type EvmNode, startEvmNode } from "../tests/helpers/evm-node";
import { api, type App, BUILD_TIMEOUT_MS, launchBrowser, newPage, PASSWORD, screenshot, signedInUser, startApp } from "./harness";

/**
 * The billing page of a server that takes x402 (TALON_BILLING=on, TALON_X402_* against a local chain
 * with an EIP-3009 token): the x402 card explains the method with the server's terms (the token's
 * name read from the chain), the payments list starts empty, and an owner switches the overage
 * method to x402 in the selector. Settlement itself is tested in tests/api/x402*.test.ts.
 */
const PAY_TO = privateKeyToAccount(`0x${"42".repeat(32)}`).address;
let node: EvmNode;
let app: App;
let browser: Browser;

beforeAll(async () => {
  ensureBuild();
  node = await startEvmNode();
  const usdc = await node.deploy("TestUsdc", { types: [{ type: "string" }, { type: "address" }, { type: "uint256" }], values: ["Talon Test USD", node.accounts[0], 10n ** 12n] });
  [app, browser] = await Promise.all([
    startApp({
      TALON_BILLING: "on",
      TALON_CHAIN_RPC_URLS: `localhost=${node.url}`,
      TALON_X402_PAY_TO: PAY_TO,
      TALON_X402_NETWORK: "localhost",
      TALON_X402_ASSET: usdc,
      TALON_X402_PRICE: "10000",
      // Never reached here: no request goes past the quota in this spec.
      TALON_X402_FACILITATOR_URL: "http://127.0.0.1:9",
    }),
    launchBrowser(),
  ]);
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await node?.close();
});

describe("billing page with x402", () => {
  test("explains x402 with the server's terms, lists no payments yet, and saves x402 as the overage method", async () => {
    const { page, context } = await newPage(browser, app);
    const { email } = await signedInUser(page, app);
    await page.goto("/billing");
    const card = page.getByRole("heading", { name: "x402 pay-per-request" });
    await card.waitFor();
    expect(await page.getByTestId("x402-price").innerText()).toBe("10000 atomic units of Talon Test USD");
    expect(await page.getByText(PAY_TO).count()).toBe(1);
    expect(await page.getByText("No x402 payments yet").count()).toBe(1);

    const method = page.getByLabel("Overage method");
    await method.selectOption("x402");
    await page.getByRole("button", { name: "Save overage method" }).click();
    await page.getByText("Overage method saved.").waitFor();
    await screenshot(page, "x402-billing");
    const token = (await api(app, "POST", "/v1/auth/token", { body: { email, password: PASSWORD } })).body.access_token as string;
    expect((await api(app, "GET", "/v1/billing/subscription", { token })).body.overage_method).toBe("x402");
    await context.close();
  });
});
