import { encodeSecretPath, secretPathError, seg, type SdkResponse, type Transport } from "../client";
import type { RotateGenerateInput, Secret, SecretList, SecretOptions, SecretRotated, SecretVersions, SecretWritten } from "../types";

export function secretsResource(t: Transport) {
  const at = (op: string, vaultId: string, key: string) => `/v1/vaults/${seg(vaultId)}/${op}/${encodeSecretPath(key)}`;
  const call = <T>(method: string, op: string, vaultId: string, key: string, opts: { body?: unknown; suffix?: string } = {}): Promise<SdkResponse<T>> =>
    Promise.resolve(secretPathError(key) ?? t.request<T>(method, at(op, vaultId, key) + (opts.suffix ?? ""), { body: opts.body }));
  const set = (vaultId: string, key: string, value: string, options: SecretOptions = {}): Promise<SdkResponse<SecretWritten>> =>
    call("PUT", "secrets", vaultId, key, { body: { ...options, value } });
  const versions = (vaultId: string, key: string): Promise<SdkResponse<SecretVersions>> => call("GET", "secret-versions", vaultId, key);

  return {
    set,
    /** Reads the current value; counts toward the version's `max_access_count`. */
    get: (vaultId: string, key: string): Promise<SdkResponse<Secret>> => call("GET", "secrets", vaultId, key),
    list: (vaultId: string, prefix?: string): Promise<SdkResponse<SecretList>> =>
      t.request("GET", `/v1/vaults/${seg(vaultId)}/secrets`, { query: { prefix } }),
    delete: (vaultId: string, key: string): Promise<SdkResponse<null>> => call("DELETE", "secrets", vaultId, key),
    /**
     * Stores `newValue` as the next version, keeping the current version's type and metadata (read from
     * the version list, so the rotation costs no read of the old value).
     */
    rotate: async (vaultId: string, key: string, newValue: string): Promise<SdkResponse<SecretWritten>> => {
      const current = await versions(vaultId, key);
      if (current.error) return current;
      const latest = current.data.versions.reduce<(typeof current.data.versions)[number] | undefined>((a, b) => (a && a.version > b.version ? a : b), undefined);
      return set(vaultId, key, newValue, latest ? { type: latest.type, metadata: latest.metadata } : {});
    },
    versions,
    getVersion: (vaultId: string, key: string, version: number): Promise<SdkResponse<Secret>> =>
      call("GET", "secret-version", vaultId, key, { suffix: `/${seg(String(version))}` }),
    disableVersion: (vaultId: string, key: string, version: number): Promise<SdkResponse<null>> =>
      call("POST", "secret-version-disable", vaultId, key, { suffix: `/${seg(String(version))}` }),
    /** A server-generated value (returned once, in `data.value`) becomes the next version. */
    rotateGenerate: (vaultId: string, key: string, options: RotateGenerateInput = {}): Promise<SdkResponse<SecretRotated>> =>
      call("POST", "secret-rotate", vaultId, key, { body: options }),
  };
}
