import { encodeSecretPath, secretPathError, seg, type SdkResponse, type Transport } from "../client";
import { cmekFailure, type CmekKeyInput, openRead, sealForVault } from "../cmek";
import type {
  DeletedSecretList,
  RestoredSecret,
  RotateGenerateInput,
  Secret,
  SecretInjected,
  SecretInjectInput,
  SecretList,
  SecretOptions,
  SecretRotated,
  SecretVersions,
  SecretWritten,
} from "../types";

/** A CMEK vault's key (docs/cmek.md): a CmekKey, its 32 raw bytes, or the key file's text. */
export type CmekOption = { cmekKey?: CmekKeyInput };

export function secretsResource(t: Transport) {
  const at = (op: string, vaultId: string, key: string) => `/v1/vaults/${seg(vaultId)}/${op}/${encodeSecretPath(key)}`;
  const call = <T>(method: string, op: string, vaultId: string, key: string, opts: { body?: unknown; suffix?: string } = {}): Promise<SdkResponse<T>> =>
    Promise.resolve(secretPathError(key) ?? t.request<T>(method, at(op, vaultId, key) + (opts.suffix ?? ""), { body: opts.body }));
  /** With `cmekKey` (a CMEK vault's key), the value is encrypted here first; the server sees only the blob. */
  const set = async (vaultId: string, key: string, value: string, options: SecretOptions & CmekOption = {}): Promise<SdkResponse<SecretWritten>> => {
    const { cmekKey, ...rest } = options;
    let sent = value;
    if (cmekKey !== undefined) {
      try {
        sent = await sealForVault(cmekKey, vaultId, key, value);
      } catch (e) {
        return cmekFailure(e);
      }
    }
    return call("PUT", "secrets", vaultId, key, { body: { ...rest, value: sent } });
  };
  const versions = (vaultId: string, key: string): Promise<SdkResponse<SecretVersions>> => call("GET", "secret-versions", vaultId, key);

  return {
    set,
    /**
     * Reads the current value; counts toward the version's `max_access_count`. In a CMEK vault the value
     * is the blob (`cmek_encrypted: true`) unless `cmekKey` is given: then it is decrypted here.
     */
    get: async (vaultId: string, key: string, opts: CmekOption = {}): Promise<SdkResponse<Secret>> => {
      const res = await call<Secret>("GET", "secrets", vaultId, key);
      return opts.cmekKey === undefined ? res : openRead(res, opts.cmekKey, vaultId, key);
    },
    /**
     * An env_bundle for injection into a process the caller starts (`talon run`): needs `use` on the
     * path (or `read`), counts toward `max_access_count`, audited as `secret.use`. In a CMEK vault the
     * value is opened here with `cmekKey`.
     */
    inject: async (vaultId: string, key: string, body: SecretInjectInput, opts: CmekOption = {}): Promise<SdkResponse<SecretInjected>> => {
      const res = await call<SecretInjected>("POST", "secret-inject", vaultId, key, { body });
      return opts.cmekKey === undefined ? res : openRead(res, opts.cmekKey, vaultId, key);
    },
    list: (vaultId: string, prefix?: string): Promise<SdkResponse<SecretList>> =>
      t.request("GET", `/v1/vaults/${seg(vaultId)}/secrets`, { query: { prefix } }),
    delete: (vaultId: string, key: string): Promise<SdkResponse<null>> => call("DELETE", "secrets", vaultId, key),
    /**
     * Stores `newValue` as the next version, keeping the current version's type and metadata (read from
     * the version list, so the rotation costs no read of the old value).
     */
    rotate: async (vaultId: string, key: string, newValue: string, opts: CmekOption = {}): Promise<SdkResponse<SecretWritten>> => {
      const current = await versions(vaultId, key);
      if (current.error) return current;
      const latest = current.data.versions.reduce<(typeof current.data.versions)[number] | undefined>((a, b) => (a && a.version > b.version ? a : b), undefined);
      return set(vaultId, key, newValue, { ...(latest ? { type: latest.type, metadata: latest.metadata } : {}), cmekKey: opts.cmekKey });
    },
    versions,
    getVersion: async (vaultId: string, key: string, version: number, opts: CmekOption = {}): Promise<SdkResponse<Secret>> => {
      const res = await call<Secret>("GET", "secret-version", vaultId, key, { suffix: `/${seg(String(version))}` });
      return opts.cmekKey === undefined ? res : openRead(res, opts.cmekKey, vaultId, key);
    },
    disableVersion: (vaultId: string, key: string, version: number): Promise<SdkResponse<null>> =>
      call("POST", "secret-version-disable", vaultId, key, { suffix: `/${seg(String(version))}` }),
    /** A server-generated value (returned once, in `data.value`) becomes the next version. */
    rotateGenerate: (vaultId: string, key: string, options: RotateGenerateInput = {}): Promise<SdkResponse<SecretRotated>> =>
      call("POST", "secret-rotate", vaultId, key, { body: options }),
    /** Secrets deleted in the last 7 days that can still be restored (metadata only). */
    listDeleted: (vaultId: string): Promise<SdkResponse<DeletedSecretList>> => t.request("GET", `/v1/vaults/${seg(vaultId)}/deleted-secrets`),
    /** Undoes a delete made in the last 7 days: the secret comes back with every version (needs write access). */
    restore: (vaultId: string, key: string): Promise<SdkResponse<RestoredSecret>> => call("POST", "secret-restore", vaultId, key),
  };
}
