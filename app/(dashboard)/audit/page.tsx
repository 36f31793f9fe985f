import { Suspense } from "react";
import { AuditFilterForm } from "@/components/audit/audit-filter-form";
import { AuditEvents } from "@/components/audit/audit-events";
import { auditExportHref, auditQueryInput, readAuditFilters } from "@/components/audit/audit-filters";
import { AuditPager } from "@/components/audit/audit-pager";
import { buttonClass } from "@/components/ui/button";
import { ChainStatus } from "@/components/audit/chain-status";
import { Alert, Card, PageHeader, Skeleton } from "@/components/ui/layout";
import { ZAuditQuery } from "@/lib/contract/audit";
import { fieldErrorsOf } from "@/lib/contract/field-errors";
import { humanFieldText } from "@/lib/dashboard/human-problem";
import { queryAuditEvents } from "@/server/audit/service";
import { verifyAuditChain } from "@/server/audit/verify";
import { pageCtx } from "@/server/dashboard/context";
import { ApiError } from "@/server/http/errors";
import type { Ctx } from "@/server/http/principal";
import { auditFilterActors, auditResourceNames } from "@/server/audit/names";
import { principalNames } from "@/server/org/principal-names";

export const dynamic = "force-dynamic";

/** Streams in after the table: verification reads the events appended since the last signed checkpoint. */
async function ChainCard({ ctx }: { ctx: Ctx }) {
  try {
    return <ChainStatus result={await verifyAuditChain(ctx)} />;
  } catch (e) {
    if (e instanceof ApiError && e.status === 409) return <ChainStatus busy />;
    throw e;
  }
}

export default async function AuditPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const ctx = await pageCtx();
  const { values, offset } = readAuditFilters(await searchParams);
  const parsed = ZAuditQuery.safeParse(auditQueryInput(values, offset));
  const errors: Record<string, string> = {};
  if (!parsed.success) for (const f of fieldErrorsOf(parsed.error.issues, "query")) errors[f.field] ??= humanFieldText(f.message);

  const result = parsed.success ? await queryAuditEvents(ctx, parsed.data) : null;
  const wholeOrg = ctx.principal.role !== "member";
  const [names, resourceNames, actors] = await Promise.all([
    result ? principalNames(ctx, result.events.map((e) => `${e.actor_type}:${e.actor_id}`)) : new Map<string, string>(),
    result ? auditResourceNames(ctx, result.events) : new Map<string, string>(),
    wholeOrg ? auditFilterActors(ctx) : [],
  ]);

  return (
    <>
      <PageHeader
        title="Audit log"
        description={wholeOrg ? "Every recorded action in your organisation, newest first." : "The actions you performed, newest first. Owners and admins see the whole organisation's log."}
      />
      {wholeOrg && (
        <Card title="Hash chain" description="Each event carries the hash of the one before it, so an edited or deleted event breaks the chain.">
          <Suspense fallback={<Skeleton rows={1} />}>
            <ChainCard ctx={ctx} />
          </Suspense>
        </Card>
      )}
      <Card
        title="Events"
        actions={
          wholeOrg ? (
            <div className="flex flex-wrap gap-2">
              <a href={auditExportHref(values, "csv")} download className={buttonClass("secondary")}>
                Export CSV
              </a>
              <a href={auditExportHref(values, "ndjson")} download className={buttonClass("secondary")}>
                Export NDJSON
              </a>
            </div>
          ) : undefined
        }
        description={wholeOrg ? "Exports hold every event of the chosen time range, with the hash-chain fields a SIEM needs to verify them." : undefined}
      >
        <div className="flex flex-col gap-5">
          <AuditFilterForm values={values} errors={errors} actors={actors} />
          {result ? (
            <>
              <AuditEvents events={result.events} names={{ ...Object.fromEntries(names), ...Object.fromEntries(resourceNames) }} filtered={Object.keys(values).length > 0} />
              <AuditPager values={values} offset={parsed.success ? parsed.data.offset : 0} shown={result.events.length} count={result.count} />
            </>
          ) : (
            <Alert title="These filters are not valid">
              {Object.entries(errors)
                .map(([field, message]) => `${field}: ${message}`)
                .join("; ")}
            </Alert>
          )}
        </div>
      </Card>
    </>
  );
}
