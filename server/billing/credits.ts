import { randomUUID } from "node:crypto";
import type { CreditBalanceResponse, CreditTransactionResponse } from "../../lib/contract/billing";
import type { Db, Tx } from "../db";
import { centsOf, MILLICENTS_PER_CENT, usdOf } from "./tiers";

/** Purchased credits expire 12 months after the top-up (api-notes "Billing"). */
export const CREDIT_VALIDITY_MS = 365 * 24 * 3600 * 1000;

/**
 * Adds credits: the ledger row and the balance move in the caller's transaction, so they never
 * disagree. `stripeEventId` is unique: a replayed Stripe event cannot credit twice.
 */
export async function addCredits(
  tx: Tx,
  input: { orgId: string; amountCents: number; kind: "topup" | "grant"; description: string; stripeEventId?: string; now?: Date },
): Promise<bigint> {
  const amount = BigInt(input.amountCents) * MILLICENTS_PER_CENT;
  const now = input.now ?? new Date();
  await tx.creditTransaction.create({
    data: {
      id: randomUUID(),
      orgId: input.orgId,
      amount,
      kind: input.kind,
      description: input.description,
      stripeEventId: input.stripeEventId ?? null,
      expiresAt: new Date(now.getTime() + CREDIT_VALIDITY_MS),
      createdAt: now,
    },
  });
  const org = await tx.org.update({ where: { id: input.orgId }, data: { creditBalance: { increment: amount } }, select: { creditBalance: true } });
  return org.creditBalance;
}

const NINETY_DAYS_MS = 90 * 24 * 3600 * 1000;

export async function creditBalance(db: Db, orgId: string): Promise<CreditBalanceResponse> {
  const now = Date.now();
  const [org, grants] = await Promise.all([
    db.org.findUniqueOrThrow({ where: { id: orgId }, select: { creditBalance: true } }),
    db.creditTransaction.findMany({
      where: { orgId, amount: { gt: 0 }, expiresAt: { gt: new Date() }, kind: { in: ["topup", "grant"] } },
      orderBy: { expiresAt: "asc" },
      take: 100,
    }),
  ]);
  const soon = grants.filter((g) => g.expiresAt!.getTime() <= now + NINETY_DAYS_MS).reduce((sum, g) => sum + g.amount, 0n);
  const balance = org.creditBalance > 0n ? org.creditBalance : 0n;
  return {
    balance_cents: centsOf(org.creditBalance),
    balance_usd: usdOf(org.creditBalance),
    expiring: grants.map((g) => ({ amount_cents: centsOf(g.amount), expires_at: g.expiresAt!.toISOString() })),
    // What was granted is not what is left: spending draws on the balance as a whole, so at most the balance expires.
    expiring_within_90_days: usdOf(soon < balance ? soon : balance),
  };
}

export async function creditTransactions(
  db: Db,
  orgId: string,
  { page = 1, limit = 100 }: { page?: number; limit?: number } = {},
): Promise<{ transactions: CreditTransactionResponse[]; page: number; limit: number }> {
  const rows = await db.creditTransaction.findMany({ where: { orgId }, orderBy: [{ createdAt: "desc" }, { id: "asc" }], skip: (page - 1) * limit, take: limit });
  return {
    page,
    limit,
    transactions: rows.map((t) => ({
      id: t.id,
      amount_cents: centsOf(t.amount),
      kind: t.kind,
      description: t.description,
      expires_at: t.expiresAt?.toISOString() ?? null,
      created_at: t.createdAt.toISOString(),
    })),
  };
}
