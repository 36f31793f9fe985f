import Link from "next/link";
import type { ReactNode } from "react";
import { Logo } from "@/components/shell/nav";

export const metadata = { robots: { index: false, follow: false } };

/** Pages anyone holding a link may open, signed in or not (a shared secret's page). */
export default function ShareLayout({ children }: { children: ReactNode }) {
  return (
    <main className="flex min-h-screen flex-col items-center px-4 py-12 sm:py-20">
      <Link href="/" className="mb-8 flex items-center gap-2 text-lg font-semibold tracking-tight">
        <Logo /> Talon
      </Link>
      <div className="w-full max-w-lg rounded-xl border border-zinc-800 bg-zinc-900/60 p-6 sm:p-8">{children}</div>
    </main>
  );
}
