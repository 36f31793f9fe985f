import Link from "next/link";
import { buttonClass } from "@/components/ui/button";

/** What a missing page says, inside the dashboard or outside it: no dead end, a way back. */
export function NotFoundMessage({ home, homeLabel }: { home: string; homeLabel: string }) {
  return (
    <div className="flex flex-col items-start gap-4">
      <p className="font-mono text-sm text-amber-300">404</p>
      <h1 className="text-2xl font-semibold tracking-tight text-zinc-50">This page does not exist</h1>
      <p className="max-w-md text-sm text-zinc-400">
        The link may be mistyped, or what it pointed to was deleted, or it belongs to an organisation you are not a member of.
      </p>
      <Link href={home} className={buttonClass("primary")}>
        {homeLabel}
      </Link>
    </div>
  );
}
