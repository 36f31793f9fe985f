import Stripe from "stripe";
import { appendAudit } from "../audit/chain";
import { auditRow } from "../audit/writer";
import type { Config } from "../config";
import type { Tx } from "../db";
import { ApiError } from "../http/errors";
import type { Ctx, PublicCtx } from "../http/principal";
import { isUniqueViolation } from "../secrets/repo";
import { addCredits } from "./credits";
import { meterFor } from "./metering";
import { requireBillingAdmin, requireBillingOn } from "./service";
import { billingUrl, isTierName, TIERS } from "./tiers";

const NOT_CONFIGURED =
  "Stripe is not configured on this server (STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET are unset). Ask the operator to change the plan with `npm run billing:set-tier` or to add credits with `--credits-cents`.";

const clients = new WeakMap<NonNullable<Config["stripe"]>, Stripe>();

function stripeOf(config: Config): { stripe: Stripe; webhookSecret: string } {
  const conf = config.stripe;
  if (!conf) throw ApiError.unavailable(NOT_CONFIGURED);
  let stripe = clients.get(conf);
  if (!stripe) {
    // STRIPE_API_BASE points the client at another host (a stand-in for api.stripe.com in tests).
    const base = conf.apiBase ? new URL(conf.apiBase) : null;
    stripe = new Stripe(conf.secretKey, {
      maxNetworkRetries: 1,
      timeout: 15_000,
      telemetry: false,
      ...(base ? { host: base.hostname, port: base.port || (base.protocol === "https:" ? 443 : 80), protocol: base.protocol === "https:" ? "https" : "http" } : {}),
    });
    clients.set(conf, stripe);
  }
  return { stripe, webhookSecret: conf.webhookSecret };
}

async function checkout(ctx: Ctx, params: Stripe.Checkout.SessionCreateParams): Promise<{ checkout_url: string }> {
  requireBillingOn(ctx);
  requireBillingAdmin(ctx);
  const { stripe } = stripeOf(ctx.rt.config);
  const org = await ctx.rt.db.org.findUniqueOrThrow({ where: { id: ctx.principal.orgId }, select: { stripeCustomerId: true } });
  const url = billingUrl(ctx.rt.config.publicUrl);
  let session: Stripe.Checkout.Session;
  try {
    session = await stripe.checkout.sessions.create({
      ...params,
      client_reference_id: ctx.principal.orgId,
      ...(org.stripeCustomerId ? { customer: org.stripeCustomerId } : {}),
      success_url: `${url}?checkout=success`,
      cancel_url: `${url}?checkout=cancelled`,
    });
  } catch {
    // Stripe's message may name our account or request ids: the caller gets a plain 503.
    throw ApiError.unavailable("Stripe could not create a checkout session; try again later");
  }
  if (!session.url) throw ApiError.unavailable("Stripe returned a checkout session without a URL");
  return { checkout_url: session.url };
}

export function subscribeCheckout(ctx: Ctx, tier: "pro" | "business") {
  const metadata = { org_id: ctx.principal.orgId, kind: "subscription", tier };
  return checkout(ctx, {
    mode: "subscription",
    line_items: [
      {
        price_data: { currency: "usd", unit_amount: TIERS[tier].priceCents!, recurring: { interval: "month" }, product_data: { name: `Talon ${tier}` } },
        quantity: 1,
      },
    ],
    metadata,
    subscription_data: { metadata },
  });
}

export function topupCheckout(ctx: Ctx, amountCents: number) {
  return checkout(ctx, {
    mode: "payment",
    line_items: [{ price_data: { currency: "usd", unit_amount: amountCents, product_data: { name: "Talon credits" } }, quantity: 1 }],
    metadata: { org_id: ctx.principal.orgId, kind: "topup", amount_cents: String(amountCents) },
  });
}

type Meta = Record<string, string> | null | undefined;
type SessionObject = { id: string; metadata?: Meta; amount_total?: number | null; customer?: string | null; subscription?: string | null; payment_status?: string };
type SubscriptionObject = { id: string; status: string; customer?: string | null; metadata?: Meta; items?: { data?: { current_period_end?: number }[] }; current_period_end?: number };
type InvoiceObject = { customer?: string | null; period_end?: number };

/**
 * Verifies the signature over the raw body and applies the event once: the StripeEvent row is
 * inserted in the same transaction as the change, so a replay (same event id) changes nothing.
 */
export async function handleStripeWebhook(ctx: PublicCtx, rawBody: string, signature: string | undefined): Promise<{ received: true; duplicate: boolean }> {
  const { stripe, webhookSecret } = stripeOf(ctx.rt.config);
  let event: Stripe.Event;
  try {
    event = stripe.webhooks.constructEvent(rawBody, signature ?? "", webhookSecret);
  } catch {
    throw ApiError.badRequest("Invalid Stripe signature");
  }
  const orgIds: string[] = [];
  try {
    await ctx.rt.db.$transaction(async (tx) => {
      await tx.stripeEvent.create({ data: { id: event.id, type: event.type } });
      const orgId = await applyEvent(tx, event);
      if (orgId) {
        orgIds.push(orgId);
        await appendAudit(
          tx,
          auditRow(ctx, { action: "billing.stripe_event", resourceType: "org", resourceId: orgId, details: { event_id: event.id, type: event.type } }, {
            orgId,
            actorId: "system:stripe",
            actorType: "anonymous",
          }),
        );
      }
    });
  } catch (e) {
    if (isUniqueViolation(e)) return { received: true, duplicate: true };
    throw e;
  }
  // A new plan or balance is picked up by this instance's next reservation; others within a block.
  for (const id of orgIds) await meterFor(ctx.rt).reset(id);
  return { received: true, duplicate: false };
}

async function orgFor(tx: Tx, meta: Meta, customer?: string | null, subscription?: string | null): Promise<string | null> {
  const byMeta = meta?.org_id ? await tx.org.findUnique({ where: { id: meta.org_id }, select: { id: true } }) : null;
  if (byMeta) return byMeta.id;
  if (subscription) {
    const o = await tx.org.findUnique({ where: { stripeSubscriptionId: subscription }, select: { id: true } });
    if (o) return o.id;
  }
  if (customer) {
    const o = await tx.org.findUnique({ where: { stripeCustomerId: customer }, select: { id: true } });
    if (o) return o.id;
  }
  return null;
}

const dateOf = (epochSeconds?: number) => (epochSeconds ? new Date(epochSeconds * 1000) : undefined);

/** Returns the org the event changed, or null when it concerns nothing Talon knows. */
async function applyEvent(tx: Tx, event: Stripe.Event): Promise<string | null> {
  const obj = event.data.object as unknown;
  switch (event.type) {
    case "checkout.session.completed": {
      const s = obj as SessionObject;
      const orgId = await orgFor(tx, s.metadata, s.customer);
      if (!orgId || s.payment_status === "unpaid") return null;
      if (s.metadata?.kind === "topup") {
        const cents = Number(s.metadata.amount_cents ?? s.amount_total ?? 0);
        if (!Number.isInteger(cents) || cents <= 0) return null;
        await addCredits(tx, { orgId, amountCents: cents, kind: "topup", description: `Stripe top-up ($${(cents / 100).toFixed(2)})`, stripeEventId: event.id });
      } else if (s.metadata?.kind === "subscription" && s.metadata.tier && isTierName(s.metadata.tier)) {
        await tx.org.update({
          where: { id: orgId },
          data: { tier: s.metadata.tier, subscriptionStatus: "active", stripeCustomerId: s.customer ?? undefined, stripeSubscriptionId: s.subscription ?? undefined },
        });
      } else return null;
      return orgId;
    }
    case "customer.subscription.updated":
    case "customer.subscription.deleted": {
      const sub = obj as SubscriptionObject;
      const orgId = await orgFor(tx, sub.metadata, sub.customer, sub.id);
      if (!orgId) return null;
      const periodEnd = dateOf(sub.items?.data?.[0]?.current_period_end ?? sub.current_period_end);
      const deleted = event.type === "customer.subscription.deleted";
      const tier = sub.metadata?.tier && isTierName(sub.metadata.tier) ? sub.metadata.tier : undefined;
      await tx.org.update({
        where: { id: orgId },
        data: deleted
          ? { tier: "free", subscriptionStatus: "canceled", stripeSubscriptionId: null, periodEnd: periodEnd ?? null }
          : { subscriptionStatus: sub.status, periodEnd, stripeSubscriptionId: sub.id, ...(tier ? { tier } : {}) },
      });
      return orgId;
    }
    case "invoice.paid": {
      const inv = obj as InvoiceObject;
      const orgId = await orgFor(tx, null, inv.customer);
      if (!orgId) return null;
      await tx.org.update({ where: { id: orgId }, data: { subscriptionStatus: "active", periodEnd: dateOf(inv.period_end) } });
      return orgId;
    }
    default:
      return null;
  }
}
