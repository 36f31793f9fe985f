import type { PutSecretResponse, SecretVersionSummary } from "@/lib/contract/secrets";
import type { CreateVaultRequest, VaultResponse } from "@/lib/contract/vaults";
import type { ActionResult } from "@/lib/dashboard/action-result";
import type { PutSecretActionInput, SecretRefInput, SecretVersionRefInput, VaultRefInput } from "./action-schemas";

/** A server action as the pages hand it to these components (components never import app/). */
export type Action<I, T> = (input: I) => Promise<ActionResult<T>>;

export type RevealedSecret = { value: string; version: number; access_count: number; max_access_count: number };

/** A version as the history dialog lists it: its author's display name beside the `user:<id>` reference. */
export type NamedSecretVersion = SecretVersionSummary & { created_by_name: string | null };

export type SecretActions = {
  put: Action<PutSecretActionInput, PutSecretResponse>;
  reveal: Action<SecretRefInput, RevealedSecret>;
  revealVersion: Action<SecretVersionRefInput, RevealedSecret>;
  restoreVersion: Action<SecretVersionRefInput, PutSecretResponse>;
  versions: Action<SecretRefInput, { versions: NamedSecretVersion[] }>;
  disableVersion: Action<SecretVersionRefInput, null>;
  remove: Action<SecretRefInput, null>;
};

export type CreateVaultAction = Action<CreateVaultRequest, VaultResponse>;
export type DeleteVaultAction = Action<VaultRefInput, null>;

export type { SecretRow } from "@/lib/contract/secrets";
