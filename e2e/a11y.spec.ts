import { createRequire } from "node:module";
import type { Browser, Page } from "playwright-core";
import { describe, expect, test } from "vitest";
import { appPages, concretePath, type SeededOrg, seedOrg } from "./dashboard-pages";
import { type App, newPage, screenshot, useApp } from "./harness";

/**
 * Accessibility (issue 11 item 9): axe-core finds no serious or critical violation on any page of the
 * app — every page under `app/` (signed in with a filled org, signed out for the sign-in pages and the
 * share page), the 404 page, and the phone menu opened — at a desktop and a phone width.
 */
const AXE_SOURCE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

type Violation = { id: string; impact: string | null; help: string; nodes: { target: string[]; failureSummary?: string }[] };

let app: App;
let browser: Browser;
useApp((started) => ({ app, browser } = started));

/** The serious and critical violations on the page as it is now, one line each. */
async function scan(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE_SOURCE });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: unknown[] }> } }).axe;
    return (await axe.run(document, { resultTypes: ["violations"] })).violations;
  });
  return (violations as Violation[])
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .flatMap((v) => v.nodes.map((n) => `${v.impact} ${v.id} (${v.help}) at ${n.target.join(" ")}: ${(n.failureSummary ?? "").replace(/\s+/g, " ").slice(0, 240)}`));
}

async function visit(page: Page, path: string): Promise<number> {
  const res = await page.goto(path, { waitUntil: "load" });
  await page.waitForLoadState("networkidle", { timeout: 5_000 }).catch(() => undefined);
  return res?.status() ?? 0;
}

describe("accessibility", () => {
  test("every page has no serious or critical axe-core violation, at 1280 and 375 px", async () => {
    const pages = appPages();
    // The enumeration is the test's reach: it must find the dashboard, the sign-in pages and the share page.
    for (const expected of ["/vaults", "/vaults/[id]", "/agents/[id]", "/login", "/signup", "/s/[id]"]) expect(pages.map((p) => p.pattern)).toContain(expected);

    const failures: string[] = [];
    for (const width of [1280, 375]) {
      const signedIn = await newPage(browser, app, { width });
      const org: SeededOrg = await seedOrg(signedIn.page, app);
      const signedOut = await newPage(browser, app, { width });
      for (const route of pages) {
        const page = route.group === "(dashboard)" ? signedIn.page : signedOut.page;
        const path = concretePath(route, org);
        const status = await visit(page, path);
        expect(status, `${path} answered ${status}`).toBeLessThan(400);
        for (const v of await scan(page)) failures.push(`${width}px ${route.pattern} (${page.url().replace(app.url, "")}): ${v}`);
      }
      for (const [label, page] of [["signed in", signedIn.page], ["signed out", signedOut.page]] as const) {
        expect(await visit(page, "/no-such-page-here")).toBe(404);
        for (const v of await scan(page)) failures.push(`${width}px 404 ${label}: ${v}`);
      }
      if (width >= 768) {
        // The first Tab lands on "Skip to content", which moves focus to the page's main region.
        await visit(signedIn.page, "/vaults");
        await signedIn.page.keyboard.press("Tab");
        const skip = signedIn.page.getByRole("link", { name: "Skip to content" });
        expect(await skip.evaluate((el) => el === document.activeElement)).toBe(true);
        await screenshot(signedIn.page, "a11y-skip-link");
        await signedIn.page.keyboard.press("Enter");
        await expect.poll(() => signedIn.page.evaluate(() => document.activeElement?.id)).toBe("content");
      }
      if (width < 768) {
        await visit(signedIn.page, "/vaults");
        await signedIn.page.getByRole("button", { name: "Menu" }).click();
        await signedIn.page.locator("#mobile-nav").waitFor();
        for (const v of await scan(signedIn.page)) failures.push(`${width}px mobile menu open: ${v}`);
      }
      await signedIn.context.close();
      await signedOut.context.close();
    }
    expect(failures, failures.join("\n")).toEqual([]);
  }, 600_000);
});
