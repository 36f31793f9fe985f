import "server-only";
import { randomUUID } from "node:crypto";
import NextAuth from "next-auth";
import Credentials from "next-auth/providers/credentials";
import { headers } from "next/headers";
import { log } from "../log";
import { getRuntime } from "../runtime";
import { clientIp } from "./request";
import { dashboardSecret } from "./secret";
import { redeemTicket, SESSION_TTL_MS } from "./sessions";

/**
 * next-auth (v5) holds the dashboard's cookie: an encrypted JWT naming one `UserSession` row (`sid`).
 * Its only provider redeems a sign-in ticket minted by our own server actions after the password,
 * TOTP or passkey checks (server/dashboard/sessions.ts), so every rule of the API's sign-in (limits,
 * audit, verified email, MFA) applies here unchanged. The cookie is HttpOnly, SameSite=Lax and, over
 * HTTPS, Secure with the `__Secure-` prefix; every page checks the row, so sign-out is real.
 */
export const { handlers, auth, signIn, signOut } = NextAuth(async () => {
  const rt = await getRuntime();
  return {
    secret: dashboardSecret(rt.config),
    // Self-hosted behind the operator's own proxy: the Host header decides the callback URLs.
    trustHost: true,
    // Secure, `__Secure-`-prefixed cookies whenever Talon is reached over HTTPS, decided by the
    // configured public URL rather than by whatever protocol a proxy reports.
    useSecureCookies: rt.config.publicUrl.startsWith("https:"),
    session: { strategy: "jwt", maxAge: Math.floor(SESSION_TTL_MS / 1000) },
    pages: { signIn: "/login", error: "/login" },
    providers: [
      Credentials({
        id: "ticket",
        name: "Sign-in ticket",
        credentials: { ticket: {} },
        async authorize(credentials) {
          const h = await headers();
          const sid = await redeemTicket({ rt, requestId: randomUUID(), ip: clientIp(h) }, String(credentials?.ticket ?? ""), h.get("user-agent") ?? "");
          return sid ? { id: sid } : null;
        },
      }),
    ],
    callbacks: {
      jwt({ token, user }) {
        if (user?.id) token.sid = user.id;
        return token;
      },
      session({ session, token }) {
        return { ...session, sid: typeof token.sid === "string" ? token.sid : undefined };
      },
    },
    // next-auth logs failed sign-ins with stack traces; ours are audited already. Keep errors terse.
    logger: {
      error(error) {
        if (error.name !== "CredentialsSignin") log.warn("dashboard auth error", { name: error.name });
      },
      warn() {},
      debug() {},
    },
  };
});

declare module "next-auth" {
  interface Session {
    sid?: string;
  }
}
