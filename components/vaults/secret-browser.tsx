"use client";
import { useMemo, useState } from "react";
import type { CreateShare, ShareRecipients } from "@/components/shares/share-secret-button";
import { SelectField, TextField } from "@/components/ui/field";
import { EmptyState } from "@/components/ui/layout";
import { SECRET_TYPES } from "@/lib/contract/secrets";
import { SecretTable } from "./secret-table";
import type { SecretActions, SecretRow } from "./types";

const DAY = 24 * 60 * 60 * 1000;
type ExpiryFilter = "any" | "expired" | "soon" | "set" | "never";
type SortKey = "path" | "type" | "expires" | "updated";

const EXPIRY_OPTIONS: { value: ExpiryFilter; label: string }[] = [
  { value: "any", label: "Any" },
  { value: "expired", label: "Expired" },
  { value: "soon", label: "Expires within 7 days" },
  { value: "set", label: "Has an expiry" },
  { value: "never", label: "Never expires" },
];
const SORT_OPTIONS: { value: `${SortKey}:${"asc" | "desc"}`; label: string }[] = [
  { value: "path:asc", label: "Path (A–Z)" },
  { value: "path:desc", label: "Path (Z–A)" },
  { value: "type:asc", label: "Type" },
  { value: "expires:asc", label: "Expires soonest" },
  { value: "updated:desc", label: "Recently updated" },
  { value: "updated:asc", label: "Least recently updated" },
];

/** Which secrets pass the filters, in the chosen order (pure: the component below and its test share it). */
export function browseSecrets(rows: SecretRow[], f: { query: string; type: string; expiry: ExpiryFilter; sort: string }, now: number): SecretRow[] {
  const q = f.query.trim().toLowerCase();
  const expiresAt = (s: SecretRow) => (s.expires_at ? Date.parse(s.expires_at) : null);
  const kept = rows.filter((s) => {
    if (q && !s.path.toLowerCase().includes(q)) return false;
    if (f.type && s.type !== f.type) return false;
    const at = expiresAt(s);
    if (f.expiry === "expired") return at !== null && at <= now;
    if (f.expiry === "soon") return at !== null && at > now && at <= now + 7 * DAY;
    if (f.expiry === "set") return at !== null;
    if (f.expiry === "never") return at === null;
    return true;
  });
  const [key, dir] = f.sort.split(":") as [SortKey, "asc" | "desc"];
  const value = (s: SecretRow): string | number => {
    if (key === "type") return s.type;
    if (key === "expires") return expiresAt(s) ?? Number.MAX_SAFE_INTEGER;
    if (key === "updated") return Date.parse(s.created_at);
    return s.path;
  };
  const sign = dir === "desc" ? -1 : 1;
  return [...kept].sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    // Ties keep path order whichever way the sort runs.
    if (va !== vb) return (va < vb ? -1 : 1) * sign;
    return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
  });
}

/**
 * Every secret of the vault the caller may read, in one flat list: search by path, filter by type and
 * expiry, sort. Filtering happens in the browser over the listing the page already holds (metadata
 * only); the rows keep every action of the folder view.
 */
export function SecretBrowser({
  vaultId,
  secrets,
  actions,
  share,
  now,
}: {
  vaultId: string;
  secrets: SecretRow[];
  actions: SecretActions;
  share: { recipients: ShareRecipients; create: CreateShare } | null;
  now: number;
}) {
  const [query, setQuery] = useState("");
  const [type, setType] = useState("");
  const [expiry, setExpiry] = useState<ExpiryFilter>("any");
  const [sort, setSort] = useState("path:asc");
  const shown = useMemo(() => browseSecrets(secrets, { query, type, expiry, sort }, now), [secrets, query, type, expiry, sort, now]);
  const types = SECRET_TYPES.filter((t) => secrets.some((s) => s.type === t));
  return (
    <div className="flex flex-col gap-4">
      <div role="search" aria-label="Filter secrets" className="grid gap-3 sm:grid-cols-2 lg:grid-cols-4">
        <TextField label="Search paths" type="search" value={query} onChange={(e) => setQuery(e.target.value)} maxLength={512} placeholder="db/, stripe…" autoComplete="off" spellCheck={false} />
        <SelectField label="Type" value={type} onChange={(e) => setType(e.target.value)} options={[{ value: "", label: "All types" }, ...types.map((t) => ({ value: t, label: t }))]} />
        <SelectField label="Expiry" value={expiry} onChange={(e) => setExpiry(e.target.value as ExpiryFilter)} options={EXPIRY_OPTIONS} />
        <SelectField label="Sort by" value={sort} onChange={(e) => setSort(e.target.value)} options={SORT_OPTIONS} />
      </div>
      <p className="text-sm text-zinc-400" aria-live="polite" data-testid="secret-count">
        {shown.length === secrets.length ? `${secrets.length} secrets` : `${shown.length} of ${secrets.length} secrets`}
      </p>
      {shown.length === 0 ? (
        <EmptyState title="No secret matches">Change the search or a filter.</EmptyState>
      ) : (
        <SecretTable vaultId={vaultId} prefix="" secrets={shown} actions={actions} share={share} now={now} />
      )}
    </div>
  );
}
