import { ZListSecretsQuery } from "@/lib/contract/secrets";

/**
 * Secret paths read as a tree: `/` separates folders. A level of the tree is a folder prefix ("" for
 * the root, otherwise ending in "/"); under it are sub-folders (the next segment of deeper paths) and
 * the secrets whose remaining path has no `/`.
 */
export type Folder = { name: string; prefix: string; count: number };
export type TreeLevel<T> = { prefix: string; folders: Folder[]; secrets: T[] };

/** The `?prefix=` search parameter as a folder prefix; anything that is not a valid prefix is the root. */
export function folderPrefix(raw: string | string[] | undefined): string {
  if (typeof raw !== "string") return "";
  const trimmed = raw.replace(/\/{2,}/g, "/").replace(/^\//, "");
  if (trimmed === "" || !ZListSecretsQuery.shape.prefix.safeParse(trimmed).success) return "";
  return trimmed.endsWith("/") ? trimmed : `${trimmed}/`;
}

/** One level of the tree from every secret under `prefix` (as `listSecrets` returns them, sorted by path). */
export function treeLevel<T extends { path: string }>(items: readonly T[], prefix: string): TreeLevel<T> {
  const folders = new Map<string, Folder>();
  const secrets: T[] = [];
  for (const item of items) {
    if (!item.path.startsWith(prefix)) continue;
    const rest = item.path.slice(prefix.length);
    const slash = rest.indexOf("/");
    if (slash === -1) {
      secrets.push(item);
      continue;
    }
    const name = rest.slice(0, slash);
    const folder = folders.get(name) ?? { name, prefix: `${prefix}${name}/`, count: 0 };
    folder.count += 1;
    folders.set(name, folder);
  }
  return { prefix, folders: [...folders.values()].sort((a, b) => a.name.localeCompare(b.name)), secrets };
}

/** The folders from the root down to `prefix`, for a breadcrumb trail (the root itself not included). */
export function breadcrumbs(prefix: string): Folder[] {
  const names = prefix.split("/").filter(Boolean);
  return names.map((name, i) => ({ name, prefix: `${names.slice(0, i + 1).join("/")}/`, count: 0 }));
}

/** The folder a secret path sits in ("" for the root). */
export function parentPrefix(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash === -1 ? "" : path.slice(0, slash + 1);
}
