import type { Browser } from "playwright-core";
import { describe, expect, test } from "vitest";
import { api, type App, newPage, PASSWORD, screenshot, signedInUser, useApp } from "./harness";

/**
 * Sharing from the vault page (issue 11 item 1): the Share dialog creates a link share with a read
 * limit and a passphrase; its URL is the Talon page /s/{id}, whose bare GET (what link previewers
 * fetch) shows who shared what but never the value and spends no read; Reveal (a POST) asks for the
 * passphrase and spends one; the sender revokes it from the outbound list and the page is gone.
 */
const VALUE = `link_${Math.random().toString(36).slice(2)}`;
const PASSPHRASE = "open sesame please";

let app: App;
let browser: Browser;
useApp((started) => ({ app, browser } = started));

describe("share page", () => {
  test("share a secret by link, open it as a stranger, reveal on click only, revoke", async () => {
    const a = await newPage(browser, app);
    const sender = await signedInUser(a.page, app);
    const token = ((await api(app, "POST", "/v1/auth/token", { body: { email: sender.email, password: PASSWORD } })).body.access_token as string) ?? "";
    const vaultId = (await api(app, "POST", "/v1/vaults", { token, body: { name: "links" } })).body.id as string;
    expect((await api(app, "PUT", `/v1/vaults/${vaultId}/secrets/deploy-key`, { token, body: { value: VALUE } })).status).toBe(201);

    await a.page.goto(`/vaults/${vaultId}`);
    await a.page.getByRole("button", { name: "Share deploy-key" }).click();
    const dialog = a.page.getByRole("dialog", { name: "Share deploy-key" });
    await dialog.getByLabel("Max reads").fill("2");
    await dialog.getByLabel("Passphrase (optional)").fill(PASSPHRASE);
    await dialog.getByRole("button", { name: "Create share" }).click();
    const link = await dialog.getByLabel("Share link").inputValue();
    const url = new URL(link);
    expect(url.pathname).toMatch(/^\/s\/[0-9a-f-]{36}$/);
    const shareId = url.pathname.slice(3);
    await screenshot(a.page, "share-dialog-link");
    await dialog.getByRole("button", { name: "Done" }).click();

    const readsUsed = async () => {
      const out = (await api(app, "GET", "/v1/shares/outbound", { token })).body.shares as { id: string; access_count: number }[];
      return out.find((s) => s.id === shareId)?.access_count;
    };

    // A link previewer's bare GET: the page, without the value, and no read spent.
    const stranger = await newPage(browser, app);
    const bare = await stranger.page.request.get(url.pathname);
    expect(bare.status()).toBe(200);
    const html = await bare.text();
    expect(html).toContain("deploy-key");
    expect(html).not.toContain(VALUE);
    expect(await readsUsed()).toBe(0);

    // The stranger sees who shared what, then reveals with the passphrase (a wrong one first).
    await stranger.page.goto(url.pathname);
    await stranger.page.getByRole("heading", { name: "A secret was shared with you" }).waitFor();
    expect(await stranger.page.getByTestId("share-reads-left").textContent()).toBe("2");
    expect(await stranger.page.content()).not.toContain(VALUE);
    await stranger.page.getByLabel("Passphrase").fill("not the phrase");
    await stranger.page.getByRole("button", { name: "Reveal secret" }).click();
    await stranger.page.getByRole("alert").filter({ hasText: "Wrong passphrase" }).waitFor();
    await stranger.page.getByLabel("Passphrase").fill(PASSPHRASE);
    await stranger.page.getByRole("button", { name: "Reveal secret" }).click();
    await stranger.page.getByTestId("shared-secret-value").getByText(VALUE).waitFor();
    expect(await stranger.page.getByTestId("share-reads-left").textContent()).toBe("1");
    await screenshot(stranger.page, "share-page-revealed");
    expect(await readsUsed()).toBe(1);
    // Programs keep the card's route, with the id.
    const program = await api(app, "GET", `/v1/share/${shareId}`);
    expect(program.status).toBe(401);

    // The sender revokes it from the outbound list; the page is gone.
    await a.page.goto("/shares");
    const row = a.page.getByRole("table", { name: "Outbound shares" }).locator(`[data-share-id="${shareId}"]`);
    await row.getByRole("button", { name: "Revoke" }).click();
    await a.page.getByRole("dialog", { name: "Revoke this share?" }).getByRole("button", { name: "Revoke share" }).click();
    await row.waitFor({ state: "detached" });
    expect((await stranger.page.request.get(url.pathname)).status()).toBe(404);
  }, 120_000);
});
