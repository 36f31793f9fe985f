/**
 * `npm run billing:set-tier -- --org <org id | member email> [--tier free|pro|business|enterprise]
 * [--credits-cents N]`: plan changes and credits for self-hosters without Stripe. `enterprise` lifts
 * every limit. Credits are written as a ledger row and a balance change in one transaction. Reads the
 * same environment as the server (DATABASE_URL / TALON_DATA_DIR); running servers pick the change up
 * with their next quota reservation (at most one block of requests, or TALON_METER_RELEASE_MS idle).
 */
import { parseArgs } from "node:util";
import { addCredits } from "../server/billing/credits";
import { isTierName, TIER_NAMES } from "../server/billing/tiers";
import { ConfigError, loadConfig } from "../server/config";
import { openDatabase } from "../server/db";

const USAGE = `usage: npm run billing:set-tier -- --org <org id | email> [--tier ${TIER_NAMES.join("|")}] [--credits-cents N]`;

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        org: { type: "string" },
        tier: { type: "string" },
        "credits-cents": { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch {
    console.error(USAGE);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const tier = values.tier;
  const creditsArg = values["credits-cents"];
  if (!values.org || (!tier && !creditsArg)) {
    console.error(USAGE);
    return 2;
  }
  if (tier && !isTierName(tier)) {
    console.error(`--tier must be one of ${TIER_NAMES.join(", ")}`);
    return 2;
  }
  if (creditsArg !== undefined && !/^[1-9]\d{0,8}$/.test(creditsArg)) {
    console.error("--credits-cents must be a positive whole number of cents (at most 999999999)");
    return 2;
  }
  const config = loadConfig();
  const { db, close } = await openDatabase(config.databaseUrl);
  try {
    const ref = values.org.trim();
    const org = ref.includes("@")
      ? (await db.user.findUnique({ where: { email: ref.toLowerCase() }, select: { org: true } }))?.org
      : await db.org.findUnique({ where: { id: ref } });
    if (!org) {
      console.error(`no organisation found for ${ref}`);
      return 1;
    }
    const balance = await db.$transaction(async (tx) => {
      if (tier) await tx.org.update({ where: { id: org.id }, data: { tier } });
      if (creditsArg === undefined) return null;
      return addCredits(tx, { orgId: org.id, amountCents: Number(creditsArg), kind: "grant", description: "Credits added by the server operator" });
    });
    if (tier) console.log(`org ${org.id}: tier ${org.tier} -> ${tier}`);
    if (balance !== null) console.log(`org ${org.id}: +${creditsArg} cents of credits; balance ${(Number(balance) / 1000).toFixed(2)} cents`);
    return 0;
  } finally {
    await close();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof ConfigError ? e.message : `set-tier failed: ${e instanceof Error ? e.message : "unknown error"}`);
    process.exit(1);
  },
);
