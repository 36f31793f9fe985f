import { randomUUID } from "node:crypto";
import {
  BINDINGS_PER_VAULT,
  type BindingInject,
  type BindingMethod,
  type BindingResponse,
  type CreateBindingRequest,
  type UpdateBindingRequest,
  ZBindingInject,
} from "../../lib/contract/bindings";
import { appendAudit } from "../audit/chain";
import { auditRow } from "../audit/writer";
import { assertPathAccess, assertVaultVisible, readablePathFilter } from "../access/evaluate";
import { isSystemVault } from "../access/system-vault";
import { ApiError } from "../http/errors";
import { type Ctx, principalRef, requireUser, type UserCtx } from "../http/principal";
import { publicHostProblem } from "../net/outbound";
import { isUniqueViolation } from "../secrets/repo";
import { loadVault, type VaultRecord } from "../vaults/service";

/**
 * Bindings are managed by humans: creating, changing or deleting one needs `write` on its secret path
 * (the vault's creator and org owners/admins have it by the owner bypass), and `internal: true` —
 * which lets agents reach loopback and private networks — needs an org owner or admin. Agents never
 * manage bindings; they list and read the ones whose secret path they may `use` (others are 404 to
 * them, as if absent). Humans who can see the vault list all of its bindings (no value is in them).
 */
export type BindingRow = {
  id: string;
  orgId: string;
  vaultId: string;
  name: string;
  secretPath: string;
  scheme: string;
  host: string;
  port: number;
  pathPrefix: string;
  methods: string;
  injectKind: string;
  injectConfig: string;
  internal: boolean;
  description: string;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
};

/** The stored injection, re-validated: a damaged row fails closed (no injection, no request). */
export function injectOf(row: Pick<BindingRow, "injectKind" | "injectConfig">): BindingInject {
  const parsed = ZBindingInject.safeParse({ ...(JSON.parse(row.injectConfig) as object), kind: row.injectKind });
  if (!parsed.success) throw new ApiError(500, "This binding's stored injection settings are damaged; ask a human to update the binding");
  return parsed.data;
}

export const methodsOf = (row: Pick<BindingRow, "methods">) => JSON.parse(row.methods) as BindingMethod[];

export function toBindingResponse(b: BindingRow): BindingResponse {
  return {
    id: b.id,
    vault_id: b.vaultId,
    name: b.name,
    secret_path: b.secretPath,
    scheme: b.scheme === "http" ? "http" : "https",
    host: b.host,
    port: b.port,
    path_prefix: b.pathPrefix,
    methods: methodsOf(b),
    inject: injectOf(b),
    internal: b.internal,
    description: b.description,
    created_by: b.createdBy,
    created_at: b.createdAt.toISOString(),
    updated_at: b.updatedAt.toISOString(),
  };
}

/** The host as URLs spell it (lowercase; IPv6 in brackets; decimal/hex IPv4 spellings as dotted quads). */
function canonicalHost(raw: string): string {
  const bare = raw.replace(/^\[|\]$/g, "");
  const literal = bare.includes(":") ? `[${bare}]` : bare;
  try {
    return new URL(`https://${literal}/`).hostname;
  } catch {
    throw ApiError.badRequest("Invalid host: must be a host name or an IP address", [{ field: "host", message: "must be a host name or an IP address" }]);
  }
}

type Destination = { scheme: "https" | "http"; host: string; port: number; internal: boolean };

function checkDestination(ctx: UserCtx, d: Destination): void {
  if (d.internal && ctx.principal.role !== "owner" && ctx.principal.role !== "admin") {
    throw ApiError.forbidden("Only organisation owners and admins may mark a binding internal (it lets agents reach your private network)");
  }
  if (d.internal) return;
  if (d.scheme !== "https") {
    throw ApiError.badRequest("Invalid scheme: a binding that is not internal must use https (the credential must not cross the internet in clear text)", [
      { field: "scheme", message: "must be https unless the binding is internal" },
    ]);
  }
  const problem = publicHostProblem(d.host);
  if (problem) throw ApiError.badRequest(`Invalid host: ${problem} (only a binding marked internal may)`, [{ field: "host", message: problem }]);
}

function assertHumanManager(anyCtx: Ctx): UserCtx {
  if (anyCtx.principal.kind !== "user") throw ApiError.forbidden("Bindings are managed by humans; an agent can list and execute the bindings it may use");
  return requireUser(anyCtx);
}

async function manageableVault(ctx: Ctx, vaultId: string): Promise<VaultRecord> {
  const vault = await loadVault(ctx, vaultId);
  if (isSystemVault(vault)) throw ApiError.forbidden("Talon's system vault cannot have bindings");
  return vault;
}

const duplicate = (name: string) => ApiError.conflict(`A binding named "${name}" already exists in this vault`);

async function findBinding(ctx: Ctx, vaultId: string, id: string): Promise<BindingRow> {
  const b = await ctx.rt.db.binding.findFirst({ where: { id, vaultId, orgId: ctx.principal.orgId } });
  if (!b) throw ApiError.notFound("Binding not found");
  return b;
}

/**
 * Which binding paths an agent may see: those it may read or `use` — the listing predicate of the
 * access rules (no approval request is opened by looking). Nothing at all when it has no policy here.
 */
async function usablePaths(ctx: Ctx, vault: VaultRecord): Promise<(path: string) => boolean> {
  try {
    return await readablePathFilter(ctx, vault);
  } catch (e) {
    if (e instanceof ApiError && e.status === 403) return () => false;
    throw e;
  }
}

const injectConfigJson = (inject: BindingInject) => {
  const { kind: _kind, ...config } = inject;
  return JSON.stringify(config);
};

export async function createBinding(anyCtx: Ctx, vaultId: string, body: CreateBindingRequest): Promise<BindingResponse> {
  const ctx = assertHumanManager(anyCtx);
  const vault = await manageableVault(ctx, vaultId);
  await assertPathAccess(ctx, vault, body.secret_path, "write");
  const host = canonicalHost(body.host);
  const port = body.port ?? (body.scheme === "https" ? 443 : 80);
  checkDestination(ctx, { scheme: body.scheme, host, port, internal: body.internal });
  const id = randomUUID();
  try {
    const row = await ctx.rt.db.$transaction(async (tx) => {
      // The vault row's lock serialises creations in this vault, so the count below holds.
      await tx.$executeRaw`UPDATE "Vault" SET "id" = "id" WHERE "id" = ${vaultId}`;
      if ((await tx.binding.count({ where: { vaultId } })) >= BINDINGS_PER_VAULT) {
        throw ApiError.conflict(`A vault may have at most ${BINDINGS_PER_VAULT} bindings; delete one first`);
      }
      const created = await tx.binding.create({
        data: {
          id,
          orgId: ctx.principal.orgId,
          vaultId,
          name: body.name,
          secretPath: body.secret_path,
          scheme: body.scheme,
          host,
          port,
          pathPrefix: body.path_prefix,
          methods: JSON.stringify(body.methods),
          injectKind: body.inject.kind,
          injectConfig: injectConfigJson(body.inject),
          internal: body.internal,
          description: body.description,
          createdBy: principalRef(ctx.principal),
        },
      });
      await appendAudit(
        tx,
        auditRow(ctx, {
          action: "binding.create",
          resourceType: "binding",
          resourceId: id,
          details: { vault_id: vaultId, name: body.name, path: body.secret_path, host, port, internal: body.internal, inject: body.inject.kind },
        }),
      );
      return created;
    });
    return toBindingResponse(row);
  } catch (e) {
    if (isUniqueViolation(e)) throw duplicate(body.name);
    throw e;
  }
}

export async function listBindings(ctx: Ctx, vaultId: string): Promise<{ bindings: BindingResponse[] }> {
  const vault = await loadVault(ctx, vaultId);
  const rows = await ctx.rt.db.binding.findMany({ where: { vaultId, orgId: ctx.principal.orgId }, orderBy: { name: "asc" } });
  if (ctx.principal.kind === "user") {
    await assertVaultVisible(ctx, vault);
    return { bindings: rows.map(toBindingResponse) };
  }
  const usable = await usablePaths(ctx, vault);
  return { bindings: rows.filter((r) => usable(r.secretPath)).map(toBindingResponse) };
}

export async function getBinding(ctx: Ctx, vaultId: string, id: string): Promise<BindingResponse> {
  const vault = await loadVault(ctx, vaultId);
  const row = await findBinding(ctx, vaultId, id);
  if (ctx.principal.kind === "user") await assertVaultVisible(ctx, vault);
  else if (!(await usablePaths(ctx, vault))(row.secretPath)) throw ApiError.notFound("Binding not found");
  return toBindingResponse(row);
}

export async function updateBinding(anyCtx: Ctx, vaultId: string, id: string, body: UpdateBindingRequest): Promise<BindingResponse> {
  const ctx = assertHumanManager(anyCtx);
  const vault = await manageableVault(ctx, vaultId);
  const current = await findBinding(ctx, vaultId, id);
  await assertPathAccess(ctx, vault, current.secretPath, "write");
  if (body.secret_path !== undefined) await assertPathAccess(ctx, vault, body.secret_path, "write");
  const scheme = body.scheme ?? (current.scheme === "http" ? "http" : "https");
  const host = body.host !== undefined ? canonicalHost(body.host) : current.host;
  const port = body.port ?? (body.scheme !== undefined && body.scheme !== current.scheme ? (scheme === "https" ? 443 : 80) : current.port);
  const internal = body.internal ?? current.internal;
  // Changing anything of an internal binding's destination is re-checked as if it were new.
  checkDestination(ctx, { scheme, host, port, internal });
  try {
    const row = await ctx.rt.db.$transaction(async (tx) => {
      const { count } = await tx.binding.updateMany({
        where: { id, vaultId, orgId: ctx.principal.orgId },
        data: {
          ...(body.name !== undefined ? { name: body.name } : {}),
          ...(body.secret_path !== undefined ? { secretPath: body.secret_path } : {}),
          scheme,
          host,
          port,
          ...(body.path_prefix !== undefined ? { pathPrefix: body.path_prefix } : {}),
          ...(body.methods !== undefined ? { methods: JSON.stringify(body.methods) } : {}),
          ...(body.inject !== undefined ? { injectKind: body.inject.kind, injectConfig: injectConfigJson(body.inject) } : {}),
          internal,
          ...(body.description !== undefined ? { description: body.description } : {}),
        },
      });
      if (count === 0) throw ApiError.notFound("Binding not found");
      await appendAudit(
        tx,
        auditRow(ctx, {
          action: "binding.update",
          resourceType: "binding",
          resourceId: id,
          details: { vault_id: vaultId, changed: Object.keys(body).sort().join(","), host, port, internal },
        }),
      );
      return tx.binding.findUniqueOrThrow({ where: { id } });
    });
    return toBindingResponse(row);
  } catch (e) {
    if (isUniqueViolation(e)) throw duplicate(body.name ?? current.name);
    throw e;
  }
}

export async function deleteBinding(anyCtx: Ctx, vaultId: string, id: string): Promise<void> {
  const ctx = assertHumanManager(anyCtx);
  const vault = await manageableVault(ctx, vaultId);
  const current = await findBinding(ctx, vaultId, id);
  await assertPathAccess(ctx, vault, current.secretPath, "write");
  await ctx.rt.db.$transaction(async (tx) => {
    const { count } = await tx.binding.deleteMany({ where: { id, vaultId, orgId: ctx.principal.orgId } });
    if (count === 0) throw ApiError.notFound("Binding not found");
    await appendAudit(tx, auditRow(ctx, { action: "binding.delete", resourceType: "binding", resourceId: id, details: { vault_id: vaultId, name: current.name } }));
  });
}
