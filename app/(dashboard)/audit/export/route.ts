import { ZAuditExportQuery } from "@/lib/contract/audit";
import { fieldErrorsOf } from "@/lib/contract/field-errors";
import { exportAuditEvents } from "@/server/audit/export";
import { optionalCtx } from "@/server/dashboard/context";
import { ApiError, problemBody } from "@/server/http/errors";

export const dynamic = "force-dynamic";

const problem = (e: ApiError) => Response.json(problemBody(e), { status: e.status, headers: { "Content-Type": "application/problem+json" } });

/**
 * The audit page's CSV/NDJSON download: `GET /v1/audit/export`'s service (owners and admins, an
 * `audit.export` event, the stream with the chain fields) for the dashboard session, which the API
 * does not accept as a credential.
 */
export async function GET(req: Request): Promise<Response> {
  try {
    const ctx = await optionalCtx();
    if (!ctx) return problem(ApiError.unauthorized("Your session has ended. Sign in again."));
    const parsed = ZAuditExportQuery.safeParse(Object.fromEntries(new URL(req.url).searchParams));
    if (!parsed.success) {
      const fields = fieldErrorsOf(parsed.error.issues, "query");
      return problem(ApiError.badRequest(fields.map((f) => `${f.field}: ${f.message}`).join("; "), fields));
    }
    const out = await exportAuditEvents(ctx, parsed.data);
    return new Response(out.body, { headers: { "Content-Type": out.contentType, "Content-Disposition": `attachment; filename="${out.filename}"`, "Cache-Control": "no-store" } });
  } catch (e) {
    if (e instanceof ApiError) return problem(e);
    throw e;
  }
}
