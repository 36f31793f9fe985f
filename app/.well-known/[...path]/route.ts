// `/.well-known/*` (JWKS and friends) belongs to the API app too; see app/v1/[[...route]]/route.ts.
export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export { DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT } from "../../v1/[[...route]]/route";
