import Link from "next/link";
import { breadcrumbs, type Folder } from "./secret-tree";

const linkClass = "rounded text-amber-300 hover:underline focus-visible:outline-2 focus-visible:outline-amber-400";

/** Where a folder prefix lives: the vault page with `?prefix=` (paths are not secret). */
export const folderHref = (vaultId: string, prefix: string) => (prefix ? `/vaults/${vaultId}?prefix=${encodeURIComponent(prefix)}` : `/vaults/${vaultId}`);

/** The trail from the vault's root to the folder being browsed. */
export function Breadcrumbs({ vaultId, prefix }: { vaultId: string; prefix: string }) {
  const trail = breadcrumbs(prefix);
  return (
    <nav aria-label="Folder" className="text-sm">
      <ol className="flex flex-wrap items-center gap-1">
        <li>
          {trail.length === 0 ? (
            <span aria-current="page" className="text-zinc-200">
              All secrets
            </span>
          ) : (
            <Link href={folderHref(vaultId, "")} className={linkClass}>
              All secrets
            </Link>
          )}
        </li>
        {trail.map((f, i) => (
          <li key={f.prefix} className="flex items-center gap-1 font-mono">
            <span aria-hidden className="text-zinc-600">
              /
            </span>
            {i === trail.length - 1 ? (
              <span aria-current="page" className="text-zinc-200">
                {f.name}
              </span>
            ) : (
              <Link href={folderHref(vaultId, f.prefix)} className={linkClass}>
                {f.name}
              </Link>
            )}
          </li>
        ))}
      </ol>
    </nav>
  );
}

/** The sub-folders of the level being browsed; opening one narrows the prefix. */
export function FolderList({ vaultId, folders }: { vaultId: string; folders: Folder[] }) {
  if (folders.length === 0) return null;
  return (
    <ul aria-label="Folders" className="grid grid-cols-1 gap-2 sm:grid-cols-2 lg:grid-cols-3">
      {folders.map((f) => (
        <li key={f.prefix}>
          <Link
            href={folderHref(vaultId, f.prefix)}
            className="flex items-center justify-between gap-3 rounded-lg border border-zinc-800 bg-zinc-950/60 px-3 py-2 text-sm hover:border-zinc-600 focus-visible:outline-2 focus-visible:outline-amber-400"
          >
            <span className="flex min-w-0 items-center gap-2">
              <FolderIcon />
              <span className="truncate font-mono text-zinc-100">{f.name}/</span>
            </span>
            <span className="shrink-0 text-xs text-zinc-500">
              {f.count} {f.count === 1 ? "secret" : "secrets"}
            </span>
          </Link>
        </li>
      ))}
    </ul>
  );
}

function FolderIcon() {
  return (
    <svg viewBox="0 0 20 20" aria-hidden="true" className="h-4 w-4 shrink-0 text-amber-400/80">
      <path d="M2 5.5A1.5 1.5 0 0 1 3.5 4h4l2 2h7A1.5 1.5 0 0 1 18 7.5v7a1.5 1.5 0 0 1-1.5 1.5h-13A1.5 1.5 0 0 1 2 14.5v-9z" fill="currentColor" />
    </svg>
  );
}
