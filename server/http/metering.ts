import type { Context, Next } from "hono";
import { meterFor, type MeterReading, usageEventsFor } from "../billing/metering";
import { payPastQuota } from "../billing/x402";
import type { ApiEnv } from "./env";
import { presetHeaders } from "./preset-headers";
import { routeTemplateOf } from "./route-template";

/**
 * Route groups that never consume quota (skill card: auth, health, audit, org, security, chains and
 * billing are free). Link shares read without a token are not metered either: they run without a
 * principal, and charging the sharer's org for strangers' reads would let anyone drain its quota.
 */
const FREE_PREFIXES = ["/v1/auth/", "/v1/health", "/v1/audit/", "/v1/org/", "/v1/security/", "/v1/chains", "/v1/billing/"];
/**
 * Within a free group, the one route a caller could use to load the instance: chain verification
 * reads the org's log, so it counts against the quota like any metered route.
 */
const METERED_IN_FREE_GROUPS = new Set(["/v1/audit/verify"]);

/** Each free prefix with its group's own path (`/v1/auth/` → `/v1/auth`), cut once rather than on every request. */
const FREE_GROUPS = FREE_PREFIXES.map((prefix) => ({ prefix, root: prefix.replace(/\/$/, "") }));

export const isMeteredPath = (path: string) =>
  path.startsWith("/v1/") && (METERED_IN_FREE_GROUPS.has(path) || !FREE_GROUPS.some((g) => path === g.root || path.startsWith(g.prefix)));

type Charge = { priceMillicents: bigint; isPaid: boolean };

/**
 * Runs after authentication: counts the request against the org's monthly quota (or draws credits),
 * answers 402 when neither is left, and puts the quota headers on the response — errors included.
 * Not an async function: a request counted from this instance's reserved block goes on at once.
 */
export function meterRequest(c: Context<ApiEnv>, next: Next): Promise<void> {
  if (!isMeteredPath(c.req.path)) return next();
  const meter = meterFor(c.get("rt"));
  const reading = meter.drawReserved(c.get("principal").orgId);
  if (reading === null) return drawThenRun(c, next);
  return run(c, next, meter.headersOf(reading), { priceMillicents: reading.priceMillicents, isPaid: reading.overage });
}

/** The reserved block was spent: refill it (or 402, or an x402 payment for this one request), then run. */
async function drawThenRun(c: Context<ApiEnv>, next: Next): Promise<void> {
  const meter = meterFor(c.get("rt"));
  let headers: Record<string, string>;
  let charge: Charge;
  try {
    const reading: MeterReading = await meter.draw(c.get("principal").orgId);
    headers = meter.headersOf(reading);
    charge = { priceMillicents: reading.priceMillicents, isPaid: reading.overage };
  } catch (e) {
    // Past the quota an org may pay this one request with x402 (server/billing/x402.ts); else the 402 stands.
    const ctx = { rt: c.get("rt"), principal: c.get("principal"), requestId: c.get("requestId"), ip: c.get("ip") };
    headers = (await payPastQuota(ctx, e, { method: c.req.method, path: c.req.path, paymentHeader: c.req.header("x-payment") })).headers;
    charge = { priceMillicents: 0n, isPaid: true };
  }
  await run(c, next, headers, charge);
}

function run(c: Context<ApiEnv>, next: Next, headers: Record<string, string>, charge: Charge): Promise<void> {
  // Before the handler, so they reach success and error responses alike.
  presetHeaders(c, Object.entries(headers));
  if (c.get("rt").config.billing !== "on") return next();
  // Per-request history (GET /v1/billing/history), queued: the response does not wait for its row.
  return next().then(() => {
    const p = c.get("principal");
    usageEventsFor(c.get("rt")).record({
      orgId: p.orgId,
      principalType: p.kind,
      principalId: p.kind === "user" ? p.userId : p.agentId,
      method: c.req.method,
      endpoint: routeTemplateOf(c),
      statusCode: c.res.status,
      ...charge,
    });
  });
}
