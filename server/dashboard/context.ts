import "server-only";
import { randomUUID } from "node:crypto";
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { cache } from "react";
import type { z } from "zod";
import { fieldErrorsOf } from "../../lib/contract/field-errors";
import type { ActionResult } from "../../lib/dashboard/action-result";
import { humanProblem } from "../../lib/dashboard/human-problem";
import { ApiError, problemBody } from "../http/errors";
import { IP_NOT_ALLOWED } from "../http/ip-rules";
import { checkPrincipalBudget } from "../http/rate-limit";
import type { Ctx, PublicCtx, UserCtx } from "../http/principal";
import { log } from "../log";
import { getRuntime } from "../runtime";
import { ipAdmitted, ipRuleCacheFor } from "../security/ip-rule-cache";
import { auth } from "./auth";
import { clientIp } from "./request";
import { resolveSession } from "./sessions";

/**
 * How dashboard pages and actions reach the domain services: with the same `Ctx` an API route builds,
 * the principal coming from the dashboard session (checked against its row on every call) and the
 * org's IP rules applied exactly as the API applies them. Pages never call `/v1` over HTTP.
 */
// One session check per request, however many layouts and pages ask (React's per-request cache).
const sessionCtx = cache(async (): Promise<UserCtx | null> => {
  const session = await auth();
  if (!session?.sid) return null;
  const rt = await getRuntime();
  const principal = await resolveSession(rt, session.sid);
  if (!principal) return null;
  const ip = clientIp(await headers());
  const cache = ipRuleCacheFor(rt);
  const rules = cache.peek(principal.orgId) ?? (await cache.load(principal.orgId));
  if (ip && !ipAdmitted(rules, ip)) throw ApiError.forbidden(IP_NOT_ALLOWED);
  return { rt, principal, requestId: randomUUID(), ip };
});

/** For server components: the signed-in user's context, or a redirect to the sign-in page. */
export async function pageCtx(): Promise<UserCtx> {
  const ctx = await sessionCtx();
  if (!ctx) redirect("/login");
  return ctx;
}

/** The signed-in user's context, or null (pages that also serve signed-out visitors). */
export async function optionalCtx(): Promise<UserCtx | null> {
  return sessionCtx();
}

/** A context for the steps before anyone is signed in (sign-up, sign-in, verification). */
export async function publicCtx(): Promise<PublicCtx> {
  return { rt: await getRuntime(), requestId: randomUUID(), ip: clientIp(await headers()) };
}

/**
 * A 400 problem naming each field the contract schema refused, as the API's validation hook does, in
 * words for a person (lib/dashboard/human-problem.ts; the API keeps its own wording for programs).
 */
export function invalidInput(issues: readonly z.core.$ZodIssue[]): ActionResult<never> {
  const fields = fieldErrorsOf(issues, "input");
  return { ok: false, problem: humanProblem({ status: 400, title: "Bad Request", detail: fields.map((f) => `${f.field}: ${f.message}`).join("; ").slice(0, 1000), fields }) };
}

/**
 * Maps anything a service threw to the problem an action returns, in words for a person (no field
 * paths, API paths or status words); unknown errors are logged, not shown, and name the request id.
 */
export function actionFailure(e: unknown, requestId: string): ActionResult<never> {
  if (e instanceof ApiError) {
    const { status, title, detail, fields } = problemBody(e);
    return { ok: false, problem: humanProblem({ status, title, detail, ...(fields ? { fields } : {}) }, requestId) };
  }
  log.error("dashboard action failed", { requestId, error: e instanceof Error ? e.name : "unknown" });
  return { ok: false, problem: humanProblem({ status: 500, title: "Internal Server Error", detail: "" }, requestId) };
}

/**
 * A server action body: the input validated by the contract schema (400 naming each field), the
 * signed-in user's context (401 when the session is over), then the service call; every failure comes
 * back as an `ActionResult` problem. Server actions are POSTs that Next.js checks against the page's
 * origin, so they are CSRF-safe.
 */
export async function userAction<S extends z.ZodType, T>(schema: S, input: unknown, run: (ctx: Ctx, data: z.output<S>) => Promise<T>): Promise<ActionResult<T>> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) return invalidInput(parsed.error.issues);
  let ctx: UserCtx | null = null;
  try {
    ctx = await sessionCtx();
    if (!ctx) return { ok: false, problem: { status: 401, title: "Unauthorized", detail: "Your session has ended. Sign in again." } };
    await checkPrincipalBudget(ctx.rt, ctx.principal);
    return { ok: true, data: await run(ctx, parsed.data) };
  } catch (e) {
    return actionFailure(e, ctx?.requestId ?? randomUUID());
  }
}
