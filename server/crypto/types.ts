/** Associated data binding a sealed secret version to its place: a blob moved to another row fails to open. */
export type SecretAad = { vaultId: string; secretId: string; version: number };

export type VaultKeyRecord = { id: string; wrappedKey: Uint8Array; masterKeyVersion: number };
