import type { Metadata } from "next";
import Link from "next/link";
import { Logo } from "@/components/shell/nav";
import { NotFoundMessage } from "@/components/shell/not-found-message";

export const metadata: Metadata = { title: "Page not found" };

/** Any URL no route matches (Next.js answers it with HTTP 404). */
export default function NotFound() {
  return (
    <main className="flex min-h-screen flex-col items-center px-4 py-12 sm:py-20">
      <Link href="/" className="mb-8 flex items-center gap-2 text-lg font-semibold tracking-tight">
        <Logo /> Talon
      </Link>
      <div className="w-full max-w-lg rounded-xl border border-zinc-800 bg-zinc-900/60 p-6 sm:p-8">
        <NotFoundMessage home="/vaults" homeLabel="Go to your vaults" />
      </div>
    </main>
  );
}
