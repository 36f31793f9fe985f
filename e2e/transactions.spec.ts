import { getAddress, type Hex, parseEther } from "viem";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ensureBuild } from "../scripts/talon-process";
import { type EvmNode, startEvmNode } from "../tests/helpers/evm-node";
import { api, type App, BUILD_TIMEOUT_MS, launchBrowser, newPage, screenshot, signedInUser, startApp } from "./harness";

/**
 * The crypto proxy as a human sees it: an HSM signing key generated on the agent's transactions
 * page, its address copied and funded on a real local chain (Hardhat, started here), the agent's
 * transactions listed with status, value, hash (linked to the chain's explorer where the chain has
 * one) and guardrail decisions, and the key destroyed after its address is typed out.
 */
const RECIPIENT = "0x90F79bf6EB2c4f870365E785982E1f101E93b906" as Hex;

let app: App;
let browser: Browser;
let node: EvmNode;

beforeAll(async () => {
  ensureBuild();
  node = await startEvmNode();
  // sepolia points at the same local node: its transactions carry Sepolia's chain id, so the node
  // refuses them at broadcast — a failed row whose hash the page links to Sepolia's explorer.
  [app, browser] = await Promise.all([startApp({ TALON_CHAIN_RPC_URLS: `localhost=${node.url},sepolia=${node.url}` }), launchBrowser()]);
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await node?.close();
});

describe("agent transactions and HSM signing keys in the browser", () => {
  test("generate a key, copy and fund its address, see the agent's transactions, destroy the key with a typed confirmation", async () => {
    const { context, page } = await newPage(browser, app);
    const user = await signedInUser(page, app);
    const token = (await api(app, "POST", "/v1/auth/token", { body: { email: user.email, password: user.password } })).body.access_token as string;
    const created = await api(app, "POST", "/v1/agents", { token, body: { name: "trader", crypto_proxy_enabled: true, tx_max_value_eth: "5" } });
    expect(created.status).toBe(201);
    const agentId = (created.body.agent as { id: string }).id;
    const exchanged = await api(app, "POST", "/v1/auth/agent-token", { body: { agent_id: agentId, api_key: created.body.api_key } });
    const agentToken = exchanged.body.access_token as string;

    await page.goto(`/agents/${agentId}`);
    await page.getByRole("link", { name: /transactions/i }).first().click();
    await page.waitForURL(`**/agents/${agentId}/transactions`);
    await page.getByText("No transactions yet").waitFor();

    // Generate a key inside the HSM for the local chain; only its address is shown.
    await page.getByLabel("Chain").selectOption("localhost");
    await page.getByRole("button", { name: "Generate key in HSM" }).click();
    const keyRow = page.getByTestId("signing-key");
    await keyRow.waitFor();
    const address = getAddress((await keyRow.locator("code").textContent())!.trim());
    await keyRow.getByRole("button", { name: "Copy address" }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(address);
    const listed = await api(app, "GET", `/v1/agents/${agentId}/signing-keys`, { token });
    expect(listed.body.signing_keys).toEqual([expect.objectContaining({ address, chain: "localhost", signing_key_path: `hsm:${address}` })]);
    await screenshot(page, "tx-01-signing-key");

    // Fund the copied address on the chain; the agent sends with it (no key material ever leaves the token).
    await node.send({ from: node.accounts[0]!, to: address, value: parseEther("10") });
    const before = await node.balance(RECIPIENT);
    const sent = await api(app, "POST", `/v1/agents/${agentId}/transactions`, { token: agentToken, body: { to: RECIPIENT, value: "1.25", chain: "localhost" } });
    expect(sent.status).toBe(201);
    expect(sent.body).toMatchObject({ status: "confirmed", from: address, explorer_url: null });
    expect((await node.balance(RECIPIENT)) - before).toBe(parseEther("1.25"));
    const onSepolia = await api(app, "POST", `/v1/agents/${agentId}/transactions`, { token: agentToken, body: { to: RECIPIENT, value: "0.5", chain: "sepolia", signing_key_path: `hsm:${address}` } });
    expect(onSepolia.status).toBe(201);
    expect(onSepolia.body).toMatchObject({ status: "failed", explorer_url: `https://sepolia.etherscan.io/tx/${onSepolia.body.tx_hash as string}` });
    // A guardrail refusal is a 403 and signs nothing: no row appears for it.
    expect((await api(app, "POST", `/v1/agents/${agentId}/transactions`, { token: agentToken, body: { to: RECIPIENT, value: "6", chain: "localhost" } })).status).toBe(403);

    await page.reload();
    const rows = page.getByTestId("transaction-row");
    await expect.poll(() => rows.count()).toBe(2);
    const failedRow = rows.nth(0);
    const confirmedRow = rows.nth(1);
    await expect.poll(() => failedRow.getByText("failed", { exact: true }).isVisible()).toBe(true);
    expect(await failedRow.textContent()).toContain("Broadcast refused");
    expect(await failedRow.textContent()).toContain("0.5 ETH");
    const link = failedRow.getByRole("link");
    expect(await link.getAttribute("href")).toBe(`https://sepolia.etherscan.io/tx/${onSepolia.body.tx_hash as string}`);
    expect(await link.textContent()).toBe(`${(onSepolia.body.tx_hash as string).slice(0, 10)}…${(onSepolia.body.tx_hash as string).slice(-8)}`);
    expect(await confirmedRow.getByText("confirmed", { exact: true }).isVisible()).toBe(true);
    expect(await confirmedRow.textContent()).toContain("1.25 ETH");
    // Localhost has no explorer: the hash is shown, not linked.
    expect(await confirmedRow.getByRole("link").count()).toBe(0);
    expect(await confirmedRow.getByTitle(sent.body.tx_hash as string).isVisible()).toBe(true);
    for (const row of [failedRow, confirmedRow]) {
      const text = (await row.textContent()) ?? "";
      expect(text).toContain("tx_max_value_eth: allowed (5)");
      expect(text).toContain("tx_daily_limit_eth: allowed");
    }
    expect(await page.content()).not.toContain(sent.body.signed_tx as string);
    await screenshot(page, "tx-02-transactions");

    // Destroy: the button stays disabled until the address is typed exactly.
    await keyRow.getByRole("button", { name: "Destroy…" }).click();
    const destroy = keyRow.getByRole("button", { name: "Destroy key" });
    expect(await destroy.isDisabled()).toBe(true);
    const confirm = keyRow.getByLabel("Type the address to destroy this key for good");
    await confirm.fill(address.slice(0, -1));
    expect(await destroy.isDisabled()).toBe(true);
    await confirm.fill(address);
    expect(await destroy.isDisabled()).toBe(false);
    await destroy.click();
    await expect.poll(() => page.getByTestId("signing-key").count()).toBe(0);
    expect((await api(app, "GET", `/v1/agents/${agentId}/signing-keys`, { token })).body.signing_keys).toEqual([]);
    const gone = await api(app, "POST", `/v1/agents/${agentId}/transactions`, { token: agentToken, body: { to: RECIPIENT, value: "0.1", chain: "localhost", signing_key_path: `hsm:${address}` } });
    expect(gone.status).toBe(422);
    await screenshot(page, "tx-03-key-destroyed");
    await context.close();
  }, 300_000);
});
