/**
 * The audit page's filters live in the URL (they are not secret), so a filtered view can be
 * bookmarked and paged with plain links. Dates come from `datetime-local` inputs, read as UTC.
 */
export const AUDIT_PAGE_SIZE = 50;
export const AUDIT_FILTER_KEYS = ["action", "actor_id", "path", "resource_id", "from", "to"] as const;
export type AuditFilterKey = (typeof AUDIT_FILTER_KEYS)[number];
export type AuditFilterValues = Partial<Record<AuditFilterKey, string>>;

type SearchParams = Record<string, string | string[] | undefined>;

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

export function readAuditFilters(sp: SearchParams): { values: AuditFilterValues; offset: string | undefined } {
  const values: AuditFilterValues = {};
  for (const key of AUDIT_FILTER_KEYS) {
    const v = first(sp[key])?.trim();
    if (v) values[key] = v;
  }
  const offset = first(sp.offset)?.trim();
  return { values, offset: offset || undefined };
}

const LOCAL_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/;

/**
 * A `datetime-local` value (no offset) is taken as UTC; anything else is passed on for the schema to
 * judge. A minute-precision "to" covers its whole minute, so "to 10:00" includes 10:00:30.
 */
export function toUtcIso(v: string, end = false): string {
  if (!LOCAL_DATETIME.test(v)) return v;
  if (v.length === 16) return end ? `${v}:59.999Z` : `${v}:00Z`;
  return `${v}Z`;
}

/** What a `datetime-local` input can show for a stored filter value (UTC, to the minute). */
export function toDatetimeLocal(v: string | undefined): string {
  if (!v) return "";
  if (LOCAL_DATETIME.test(v)) return v.slice(0, 16);
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? "" : d.toISOString().slice(0, 16);
}

/** The input for the contract's audit query: filters with dates as UTC ISO strings, one page. */
export function auditQueryInput(values: AuditFilterValues, offset: string | undefined): Record<string, string | number> {
  const input: Record<string, string | number> = { limit: AUDIT_PAGE_SIZE };
  for (const key of AUDIT_FILTER_KEYS) {
    const v = values[key];
    if (v !== undefined) input[key] = key === "from" || key === "to" ? toUtcIso(v, key === "to") : v;
  }
  if (offset !== undefined) input.offset = offset;
  return input;
}

/** `/audit` with these filters and offset; empty filters and a zero offset are left out. */
export function auditHref(values: AuditFilterValues, offset: number): string {
  const q = new URLSearchParams();
  for (const key of AUDIT_FILTER_KEYS) {
    const v = values[key];
    if (v) q.set(key, v);
  }
  if (offset > 0) q.set("offset", String(offset));
  const s = q.toString();
  return s ? `/audit?${s}` : "/audit";
}

/** `/audit/export` (CSV or NDJSON) for the filters' time range: the export endpoint filters by time only. */
export function auditExportHref(values: AuditFilterValues, format: "csv" | "ndjson"): string {
  const q = new URLSearchParams({ format });
  if (values.from) q.set("from", toUtcIso(values.from));
  if (values.to) q.set("to", toUtcIso(values.to, true));
  return `/audit/export?${q.toString()}`;
}
