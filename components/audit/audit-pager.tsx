import Link from "next/link";
import { buttonClass } from "@/components/ui/button";
import { AUDIT_PAGE_SIZE, type AuditFilterValues, auditHref } from "./audit-filters";

/** Newest first: "Newer" goes back towards offset 0, "Older" further into the past. */
export function AuditPager({ values, offset, shown, count }: { values: AuditFilterValues; offset: number; shown: number; count: number }) {
  const hasNewer = offset > 0;
  const hasOlder = offset + shown < count;
  const disabled = `${buttonClass("secondary")} pointer-events-none opacity-40`;
  return (
    <nav aria-label="Audit pages" className="flex flex-wrap items-center justify-between gap-3 text-sm text-zinc-400">
      <p aria-live="polite">{shown === 0 ? `0 of ${count} events` : `Events ${offset + 1}–${offset + shown} of ${count}`}</p>
      <div className="flex gap-2">
        {hasNewer ? (
          <Link href={auditHref(values, Math.max(0, offset - AUDIT_PAGE_SIZE))} className={buttonClass("secondary")}>
            Newer
          </Link>
        ) : (
          <span aria-disabled="true" className={disabled}>
            Newer
          </span>
        )}
        {hasOlder ? (
          <Link href={auditHref(values, offset + AUDIT_PAGE_SIZE)} className={buttonClass("secondary")}>
            Older
          </Link>
        ) : (
          <span aria-disabled="true" className={disabled}>
            Older
          </span>
        )}
      </div>
    </nav>
  );
}
