import type { Browser, Page } from "playwright-core";
import { describe, expect, test } from "vitest";
import { appPages, concretePath, seedOrg } from "./dashboard-pages";
import { type App, newPage, screenshot, useApp } from "./harness";

/**
 * Phones (issue 11 item 8): at 375×812 no page is wider than the viewport, with 60-character vault,
 * secret, folder and agent names in an org filled through the API. Every page under `app/` is
 * measured, the phone menu too; Esc closes that menu and gives focus back to its button. Tables are
 * not scrolled sideways there: each row is a stacked card of label/value pairs, its actions visible.
 */
let app: App;
let browser: Browser;
useApp((started) => ({ app, browser } = started));

/** How far the page is wider than the viewport, and the widest elements sticking out (for the failure message). */
async function overflow(page: Page): Promise<{ excess: number; culprits: string[] }> {
  return page.evaluate(() => {
    const width = window.innerWidth;
    const culprits: string[] = [];
    // Inside a sideways scroller (a wide table) an element sticks out of nothing: skip those.
    const clipped = (el: Element) => {
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) if (getComputedStyle(p).overflowX !== "visible") return true;
      return false;
    };
    for (const el of Array.from(document.body.querySelectorAll("*"))) {
      const r = el.getBoundingClientRect();
      if (r.right > width + 1 && culprits.length < 5 && !clipped(el)) {
        const cls = typeof el.className === "string" ? el.className.split(/\s+/).slice(0, 4).join(".") : "";
        culprits.push(`<${el.tagName.toLowerCase()}${cls ? ` .${cls}` : ""}> right=${Math.round(r.right)}`);
      }
    }
    return { excess: document.documentElement.scrollWidth - width, culprits };
  });
}

/**
 * The tables on the page as a phone shows them: whether each one's first row is a card (a block box
 * as wide as its table, with the column heading above each value) and whether its scroller still
 * scrolls sideways.
 */
async function tablesAsCards(page: Page): Promise<{ label: string; card: boolean; labels: string[]; scrolls: boolean }[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll("table.stack-table")).map((table) => {
      const region = table.closest('[role="region"]') as HTMLElement | null;
      const row = table.querySelector("tbody > tr");
      const cells = row ? Array.from(row.children).filter((c) => getComputedStyle(c).display !== "none") : [];
      return {
        label: table.getAttribute("aria-label") ?? "",
        card: !!row && getComputedStyle(row).display === "block" && cells.every((c) => getComputedStyle(c).display === "block"),
        labels: cells.map((c) => getComputedStyle(c, "::before").content),
        scrolls: !!region && region.scrollWidth > region.clientWidth + 1,
      };
    }),
  );
}

async function visit(page: Page, path: string): Promise<number> {
  const res = await page.goto(path, { waitUntil: "load" });
  await page.waitForLoadState("networkidle", { timeout: 5_000 }).catch(() => undefined);
  return res?.status() ?? 0;
}

describe("phones", () => {
  test("no page is wider than a 375 px screen with 60-character names", async () => {
    const signedIn = await newPage(browser, app, { width: 375 });
    const signedOut = await newPage(browser, app, { width: 375 });
    for (const p of [signedIn.page, signedOut.page]) await p.setViewportSize({ width: 375, height: 812 });
    const org = await seedOrg(signedIn.page, app);

    const wide: string[] = [];
    const measured: string[] = [];
    const notCards: string[] = [];
    const withTables: string[] = [];
    for (const route of appPages()) {
      const page = route.group === "(dashboard)" ? signedIn.page : signedOut.page;
      const path = concretePath(route, org);
      expect(await visit(page, path), path).toBeLessThan(400);
      const { excess, culprits } = await overflow(page);
      measured.push(route.pattern);
      if (excess > 0) wide.push(`${route.pattern} is ${excess}px too wide: ${culprits.join(", ")}`);
      for (const t of await tablesAsCards(page)) {
        withTables.push(route.pattern);
        if (!t.card || t.scrolls) notCards.push(`${route.pattern}: table "${t.label}" ${t.card ? "scrolls sideways" : "is not shown as cards"}`);
        // The first cell is labelled with its column heading (a quoted CSS string), not left bare.
        if (!/^".+"$/.test(t.labels[0] ?? "")) notCards.push(`${route.pattern}: table "${t.label}" has no label on its first cell (${t.labels[0]})`);
      }
      await screenshot(page, `mobile${route.pattern.replace(/[/[\]]+/g, "-")}`);
    }
    // The long names really are on the pages measured.
    await visit(signedIn.page, `/vaults/${org.vaultId}`);
    await signedIn.page.getByRole("heading", { level: 1, name: org.vaultName }).waitFor();
    await signedIn.page.getByText(org.secretPath).first().waitFor();
    await visit(signedIn.page, `/agents/${org.agentId}`);
    await signedIn.page.getByRole("heading", { level: 1, name: org.agentName }).waitFor();

    // The phone menu, open, is no wider either; Esc closes it and focus returns to the Menu button.
    await visit(signedIn.page, "/vaults");
    const menu = signedIn.page.getByRole("button", { name: "Menu" });
    await menu.click();
    await signedIn.page.locator("#mobile-nav").waitFor();
    const open = await overflow(signedIn.page);
    if (open.excess > 0) wide.push(`open menu is ${open.excess}px too wide: ${open.culprits.join(", ")}`);
    await signedIn.page.keyboard.press("Escape");
    await signedIn.page.locator("#mobile-nav").waitFor({ state: "detached" });
    expect(await menu.evaluate((el) => el === document.activeElement)).toBe(true);

    // The measure itself: a planted element wider than the screen is caught.
    await signedIn.page.evaluate(() => {
      const d = document.createElement("div");
      d.style.cssText = "width:1000px;height:1px";
      document.body.append(d);
    });
    expect((await overflow(signedIn.page)).excess).toBeGreaterThan(0);

    expect(measured.length).toBeGreaterThanOrEqual(15);
    expect(wide, wide.join("\n")).toEqual([]);
    expect(notCards, notCards.join("\n")).toEqual([]);
    // Every page that lists records in the seeded org shows them as cards.
    for (const p of ["/vaults", "/vaults/[id]", "/vaults/[id]/deleted", "/agents", "/agents/[id]", "/policies", "/shares", "/org", "/account", "/security"]) expect(withTables, p).toContain(p);
  }, 300_000);
});
