import type { ReactNode } from "react";
import { DashboardNav } from "@/components/shell/nav";
import { pageCtx } from "@/server/dashboard/context";
import { signOutAction } from "../(auth)/actions";

export const dynamic = "force-dynamic";

export default async function DashboardLayout({ children }: { children: ReactNode }) {
  const ctx = await pageCtx();
  const user = await ctx.rt.db.user.findUnique({ where: { id: ctx.principal.userId }, select: { email: true } });
  return (
    <div className="flex min-h-screen flex-col md:flex-row">
      <a href="#content" className="sr-only rounded-lg bg-amber-400 px-3 py-2 text-sm font-semibold text-zinc-950 focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-50">
        Skip to content
      </a>
      <DashboardNav email={user?.email ?? ""} billing={ctx.rt.config.billing} signOut={signOutAction} />
      <main id="content" tabIndex={-1} className="min-w-0 flex-1 px-4 py-6 outline-none sm:px-8 sm:py-8">
        <div className="mx-auto flex max-w-6xl flex-col gap-6">{children}</div>
      </main>
    </div>
  );
}
