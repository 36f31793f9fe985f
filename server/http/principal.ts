import type { Runtime } from "../runtime";
import { ApiError } from "./errors";
import { type Principal, signedIn, type UserPrincipal } from "./principals";

export type { AgentPrincipal, OrgRole, Principal, UserPrincipal } from "./principals";
export { principalId, principalRef, signedIn } from "./principals";

/** What every service call receives: the caller, the request, and the process-wide runtime. */
export type Ctx = {
  rt: Runtime;
  principal: Principal;
  requestId: string;
  ip: string;
  /** Why the caller asks, for a request that needs a human's approval (header X-Approval-Reason, bounded). */
  approvalReason?: string;
};
export type UserCtx = Ctx & { principal: UserPrincipal };
/** For the few operations that run before anyone is authenticated (signup, login). */
export type PublicCtx = { rt: Runtime; requestId: string; ip: string };

/** Narrows to a human caller; agents get 403 on human-only operations. */
export function requireUser(ctx: Ctx): UserCtx {
  if (ctx.principal.kind !== "user") throw ApiError.forbidden("This operation is available to human users only");
  return ctx as UserCtx;
}

/**
 * Minting a credential that outlives the caller's own (an agent, an agent key, an invitation, an API
 * key, MFA) needs an interactive sign-in: a user JWT from login or a dashboard session. A personal
 * `1ck_` key, or a JWT exchanged from one, must not turn itself into something that survives its
 * revocation. `what` names the operation ("Registering an agent").
 */
export function requireInteractiveUser(ctx: Ctx, what: string): UserCtx {
  const user = requireUser(ctx);
  if (!signedIn(user.principal)) {
    throw ApiError.forbidden(
      `${what} needs an interactive sign-in, not a personal API key (1ck_) or a token exchanged from one: sign in with your password (POST /v1/auth/token) or use the dashboard.`,
    );
  }
  return user;
}
