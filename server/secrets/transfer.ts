import type { z } from "zod";
import { envKeyForPath, formatDotenv } from "../../lib/env-file";
import { parseEnvBundle } from "../../lib/sdk/env-bundle";
import {
  type ExportSecretsResponse,
  type ImportSecretsResponse,
  SECRET_EXPORT_MAX,
  type ZExportSecretsRequest,
  type ZImportSecretsRequest,
} from "../../lib/contract/secret-transfer";
import { ApiError } from "../http/errors";
import type { Ctx } from "../http/principal";
import { loadVault } from "../vaults/service";
import { assertCanWriteSecret } from "./access";
import { appendVersion, listSecrets, readSecret } from "./service";

/**
 * Many secrets at once, through the same rules as one: an import is one `putSecret`-style write (one
 * new version, one `secret.write` event) per variable, an export one `readSecret` (access decision,
 * limits, one awaited `secret.read` event naming the path, never the value) per secret.
 */

/**
 * Stores each entry as a new version. Write access to every path is checked before the first write,
 * so a refusal anywhere writes nothing. A path that exists keeps its type and metadata (as "New
 * secret" on an existing path does); new paths get the import's type. Expiry and read limits are not
 * set: they are chosen per secret.
 */
export async function importSecrets(ctx: Ctx, input: z.output<typeof ZImportSecretsRequest>): Promise<ImportSecretsResponse> {
  const vault = await loadVault(ctx, input.vault_id);
  for (const e of input.entries) await assertCanWriteSecret(ctx, vault, e.path);
  const written: ImportSecretsResponse["written"] = [];
  for (const e of input.entries) {
    const w = await appendVersion(ctx, vault, e.path, "secret.write", (current) => {
      const keep = current && !current.deletedAt ? current : null;
      return { value: e.value, type: keep?.type ?? input.type, metadata: keep?.metadata ?? "{}", expiresAt: null, maxAccessCount: 0 };
    });
    written.push({ path: e.path, version: w.version });
  }
  return { written };
}

const fileSafe = (s: string) => s.replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^-+|-+$/g, "") || "vault";

/**
 * A folder's current values as a `.env` file or a JSON object keyed by path (relative to the folder).
 * Only paths the caller may read are listed; each value is a counted, audited read. Secrets whose
 * current version cannot be read (expired, used up, disabled, a raw key for a crypto-proxy agent) are
 * skipped and named, as are read-limited ones: an export must not spend someone's last read.
 * `.env` expands `env_bundle` secrets into their variables and turns paths into variable names.
 */
export async function exportSecrets(ctx: Ctx, input: z.output<typeof ZExportSecretsRequest>): Promise<ExportSecretsResponse> {
  const vault = await loadVault(ctx, input.vault_id);
  const { secrets } = await listSecrets(ctx, { vaultId: vault.id, prefix: input.prefix });
  if (secrets.length > SECRET_EXPORT_MAX) {
    throw ApiError.badRequest(`This folder holds ${secrets.length} secrets; export at most ${SECRET_EXPORT_MAX} at a time by choosing a folder`, [
      { field: "prefix", message: `holds more than ${SECRET_EXPORT_MAX} secrets` },
    ]);
  }
  const skipped: ExportSecretsResponse["skipped"] = [];
  const values: { path: string; relative: string; type: string; value: string }[] = [];
  for (const s of secrets) {
    if (s.max_access_count > 0) {
      skipped.push({ path: s.path, reason: `read-limited (${s.max_access_count} reads): reveal it on its own` });
      continue;
    }
    try {
      const read = await readSecret(ctx, { vaultId: vault.id, path: s.path });
      values.push({ path: s.path, relative: s.path.slice(input.prefix.length), type: read.type, value: read.value });
    } catch (e) {
      if (e instanceof ApiError && (e.status === 403 || e.status === 404 || e.status === 410)) skipped.push({ path: s.path, reason: e.detail });
      else throw e;
    }
  }

  const exported: string[] = [];
  let content: string;
  if (input.format === "json") {
    const out: Record<string, string> = {};
    for (const v of values) {
      out[v.relative] = v.value;
      exported.push(v.path);
    }
    content = `${JSON.stringify(out, null, 2)}\n`;
  } else {
    const lines: { key: string; value: string }[] = [];
    const taken = new Set<string>();
    const add = (path: string, vars: { key: string; value: string }[]) => {
      const clash = vars.find((v) => taken.has(v.key));
      if (clash) return skipped.push({ path, reason: `${clash.key} is already set by another secret in this export` });
      for (const v of vars) taken.add(v.key);
      lines.push(...vars);
      exported.push(path);
    };
    for (const v of values) {
      if (v.type === "env_bundle") {
        const bundle = parseEnvBundle(v.value);
        if (!bundle.ok) skipped.push({ path: v.path, reason: `env_bundle does not parse (${bundle.error})` });
        else add(v.path, Object.entries(bundle.vars).map(([key, value]) => ({ key, value })));
        continue;
      }
      const key = envKeyForPath(v.relative);
      if (!key) skipped.push({ path: v.path, reason: "its path does not make a variable name" });
      else add(v.path, [{ key, value: v.value }]);
    }
    content = formatDotenv(lines);
  }
  const folder = input.prefix ? `-${fileSafe(input.prefix)}` : "";
  return { filename: `${fileSafe(vault.name)}${folder}.${input.format === "json" ? "json" : "env"}`, content, exported, skipped };
}
