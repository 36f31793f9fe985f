/**
 * The plans (skill card "Billing Tiers"). `null` = unlimited. Overage prices are in millicents
 * (1/1000 of a cent): Free $0.001 = 100, Pro $0.0008 = 80, Business $0.0006 = 60 per request.
 */
export const TIER_NAMES = ["free", "pro", "business", "enterprise"] as const;
export type TierName = (typeof TIER_NAMES)[number];

export type Tier = {
  requestsPerMonth: number | null;
  vaults: number | null;
  secrets: number | null;
  agents: number | null;
  overagePriceMillicents: bigint;
  /** Monthly price in cents, for Stripe checkout. */
  priceCents: number | null;
};

export const TIERS: Record<TierName, Tier> = {
  free: { requestsPerMonth: 1_000, vaults: 3, secrets: 50, agents: 2, overagePriceMillicents: 100n, priceCents: 0 },
  pro: { requestsPerMonth: 25_000, vaults: 25, secrets: 500, agents: 10, overagePriceMillicents: 80n, priceCents: 2_900 },
  business: { requestsPerMonth: 100_000, vaults: 100, secrets: 5_000, agents: 50, overagePriceMillicents: 60n, priceCents: 14_900 },
  enterprise: { requestsPerMonth: null, vaults: null, secrets: null, agents: null, overagePriceMillicents: 0n, priceCents: null },
};

export const isTierName = (s: string): s is TierName => (TIER_NAMES as readonly string[]).includes(s);

/** An unknown tier string in the database is treated as free: limits fail closed, never open. */
export const tierOf = (name: string): { name: TierName; tier: Tier } =>
  isTierName(name) ? { name, tier: TIERS[name] } : { name: "free", tier: TIERS.free };

/**
 * The plan an org is held to. With billing off there are no plans: every org gets the card's unlimited
 * tier, so clients written for the card see no limits; the stored tier stays for when billing is on.
 */
export const planOf = (billing: "on" | "off", stored: string): { name: TierName; tier: Tier } =>
  billing === "on" ? tierOf(stored) : { name: "enterprise", tier: TIERS.enterprise };

export const MILLICENTS_PER_CENT = 1000n;

/** Cents as the API shows them: millicents / 1000, keeping fractions (0.1 = one free-tier overage request). */
export const centsOf = (millicents: bigint): number => Number(millicents) / 1000;

const MILLICENTS_PER_DOLLAR = 100_000n;

/** Dollars as an exact decimal string, at least two decimals: 1_250_000n → "12.50", 100n → "0.001". */
export function usdOf(millicents: bigint): string {
  const sign = millicents < 0n ? "-" : "";
  const abs = millicents < 0n ? -millicents : millicents;
  const fraction = (abs % MILLICENTS_PER_DOLLAR).toString().padStart(5, "0").replace(/0{1,3}$/, "");
  return `${sign}${abs / MILLICENTS_PER_DOLLAR}.${fraction}`;
}

/** The first instant of the UTC month `periodOf` names. */
export const periodStart = (ms: number) => new Date(`${periodOf(ms)}-01T00:00:00.000Z`);

const DAY_MS = 86_400_000;
/** The UTC day last named, so that metering (twice per request) formats a date once a day, not per call. */
let lastDay = { from: 0, to: 0, day: "" };

/** "YYYY-MM-DD" and "YYYY-MM" in UTC: the keys of UsageDay and UsagePeriod. */
export const dayOf = (ms: number): string => {
  if (ms < lastDay.from || ms >= lastDay.to) {
    const from = Math.floor(ms / DAY_MS) * DAY_MS;
    lastDay = { from, to: from + DAY_MS, day: new Date(from).toISOString().slice(0, 10) };
  }
  return lastDay.day;
};
export const periodOf = (ms: number): string => dayOf(ms).slice(0, 7);

/** The vault holding agents' SSH keys is created by Talon itself and never counts against a plan. */
export const AGENT_KEYS_VAULT_NAME = "__agent-keys";

export const billingUrl = (publicUrl: string) => `${publicUrl}/settings/billing`;
