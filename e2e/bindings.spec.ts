import type { Browser } from "playwright-core";
import { describe, expect, test } from "vitest";
import { api, type App, newPage, PASSWORD, screenshot, signedInUser, useApp } from "./harness";

/**
 * The vault page's Bindings card (issue 14 item 2): a human creates a credential-injecting binding
 * with its destination and injection, sees it listed, and deletes it — each checked over the API.
 */
let app: App;
let browser: Browser;
useApp((started) => ({ app, browser } = started));

describe("Bindings card", () => {
  test("create a binding with a header injection, see it listed, delete it", async () => {
    const { page } = await newPage(browser, app);
    const user = await signedInUser(page, app);
    const token = (await api(app, "POST", "/v1/auth/token", { body: { email: user.email, password: PASSWORD } })).body.access_token as string;
    const vaultId = (await api(app, "POST", "/v1/vaults", { token, body: { name: "bindings" } })).body.id as string;
    expect((await api(app, "PUT", `/v1/vaults/${vaultId}/secrets/stripe/key`, { token, body: { value: "sk_test_e2e" } })).status).toBe(201);

    await page.goto(`/vaults/${vaultId}`);
    const card = page.locator("section", { has: page.getByRole("heading", { name: "Bindings", exact: true }) });
    await card.getByText("No bindings").waitFor();
    await card.getByRole("button", { name: "New binding" }).click();
    const form = card.getByRole("form", { name: "New binding" });
    await form.getByLabel("Name", { exact: true }).fill("stripe-api");
    await form.getByLabel("Secret path", { exact: true }).fill("stripe/key");
    await form.getByLabel("Host", { exact: true }).fill("api.stripe.com");
    await form.getByLabel("Path prefix", { exact: true }).fill("/v1/");
    await form.getByLabel("POST", { exact: true }).check();
    await form.getByLabel("Inject the secret as", { exact: true }).selectOption("header");
    await form.getByLabel("Header name", { exact: true }).fill("X-Api-Key");
    // The internal checkbox warns before anything is sent.
    await form.getByLabel(/Internal destination/).check();
    await form.getByText("This opens your network to agents").waitFor();
    await form.getByLabel(/Internal destination/).uncheck();
    await form.getByRole("button", { name: "Create binding" }).click();

    await card.getByRole("cell", { name: "stripe-api" }).waitFor();
    expect(await card.textContent()).toContain("https://api.stripe.com:443/v1/");
    expect(await card.textContent()).toContain("Header X-Api-Key");
    await screenshot(page, "bindings-card");
    const listed = await api(app, "GET", `/v1/vaults/${vaultId}/bindings`, { token });
    expect(listed.body.bindings).toMatchObject([{ name: "stripe-api", host: "api.stripe.com", port: 443, path_prefix: "/v1/", methods: ["GET", "POST"], inject: { kind: "header", header_name: "X-Api-Key" }, internal: false }]);

    // A destination Talon refuses is explained beside its field, and nothing is created.
    await card.getByRole("button", { name: "New binding" }).click();
    await form.getByLabel("Name", { exact: true }).fill("metadata");
    await form.getByLabel("Secret path", { exact: true }).fill("stripe/key");
    await form.getByLabel("Host", { exact: true }).fill("169.254.169.254");
    await form.getByRole("button", { name: "Create binding" }).click();
    await form.getByRole("alert").filter({ hasText: /link-local/ }).waitFor();
    await form.getByRole("button", { name: "Cancel" }).or(card.getByRole("button", { name: "Cancel" })).first().click();
    expect(((await api(app, "GET", `/v1/vaults/${vaultId}/bindings`, { token })).body.bindings as unknown[]).length).toBe(1);

    await card.getByRole("button", { name: "Delete" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete binding" }).click();
    await card.getByText("No bindings").waitFor();
    expect((await api(app, "GET", `/v1/vaults/${vaultId}/bindings`, { token })).body.bindings).toEqual([]);
  }, 180_000);
});
