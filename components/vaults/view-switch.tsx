import Link from "next/link";

const base = "rounded-md px-3 py-1.5 text-sm font-medium focus-visible:outline-2 focus-visible:outline-amber-400";

/** Folders (browse by path segments) or one flat, searchable list of every secret; the choice lives in the URL. */
export function ViewSwitch({ vaultId, list }: { vaultId: string; list: boolean }) {
  const tab = (active: boolean) => `${base} ${active ? "bg-zinc-800 text-zinc-50" : "text-zinc-300 hover:text-zinc-50"}`;
  return (
    <nav aria-label="Secret views" className="flex w-fit gap-1 rounded-lg border border-zinc-800 p-1">
      <Link href={`/vaults/${vaultId}`} className={tab(!list)} aria-current={list ? undefined : "page"}>
        Folders
      </Link>
      <Link href={`/vaults/${vaultId}?view=list`} className={tab(list)} aria-current={list ? "page" : undefined}>
        All secrets (list)
      </Link>
    </nav>
  );
}
