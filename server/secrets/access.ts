import {
  assertMayReceiveValue,
  assertPathAccess,
  assertVaultManager,
  assertVaultVisible,
  policiesOnVault,
  readablePathFilter,
  type VaultForAccess,
  visibleVaults,
} from "../access/evaluate";
import type { Ctx } from "../http/principal";

/**
 * The vault and secret services' view of the access decision (server/access/evaluate.ts holds the
 * rules and their order). Callers have loaded the vault through their org-filtered loaders; the
 * secret checks take the *path* and run before the secret's existence is looked at.
 */
export type { VaultForAccess };

export const assertCanReadVault = (ctx: Ctx, vault: VaultForAccess) => assertVaultVisible(ctx, vault);

export async function assertCanDeleteVault(ctx: Ctx, vault: VaultForAccess): Promise<void> {
  assertVaultManager(ctx, vault, "delete a vault");
}

export const assertCanReadSecret = (ctx: Ctx, vault: VaultForAccess, path: string) => assertPathAccess(ctx, vault, path, "read");

/** A path's metadata (its version list), never a value: `use` is enough, so a use-only agent can describe what it uses. */
export const assertCanDescribeSecret = (ctx: Ctx, vault: VaultForAccess, path: string) => assertPathAccess(ctx, vault, path, "use", "skip");

/** Writes, rotations, version disables and deletes all need `write`. */
export const assertCanWriteSecret = (ctx: Ctx, vault: VaultForAccess, path: string) => assertPathAccess(ctx, vault, path, "write");

/** The rule for values leaving Talon (scopes, no raw keys for crypto-proxy agents); call once the version's type is known, after assertCanReadSecret. */
export const assertCanReadSecretValue = (ctx: Ctx, path: string, type: string) => assertMayReceiveValue(ctx.principal, path, type);

/**
 * Starts loading the caller's policies on `vaultId` so the query runs beside the read's own SELECT;
 * the hot path then costs one extra round trip in parallel rather than in sequence.
 */
export function prefetchSecretAccess(ctx: Ctx, vaultId: string): void {
  void policiesOnVault(ctx, vaultId);
}

/** Narrows a listing to the paths the caller may read or use (403 if it may do neither anywhere in the vault). */
export async function filterReadable<T extends { path: string }>(ctx: Ctx, vault: VaultForAccess, items: T[]): Promise<T[]> {
  const readable = await readablePathFilter(ctx, vault);
  return items.filter((i) => readable(i.path));
}

/** The vaults of the org the caller may see: owners and admins all, others those they created or hold a policy on. */
export const filterVisibleVaults = <T extends VaultForAccess>(ctx: Ctx, vaults: T[]) => visibleVaults(ctx, vaults);
