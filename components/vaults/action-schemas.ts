import { z } from "zod";
import { ZUuid } from "@/lib/contract/common";
import { ZPutSecretRequest, ZSecretVersionParams } from "@/lib/contract/secrets";
import { ZSecretPath } from "@/lib/contract/secret-path";

/**
 * The inputs of the vault pages' server actions: the API's own contract schemas with the ids that the
 * API takes from the URL. Shared by the actions (server) and the forms (client-side validation), so a
 * field is named the same way on both sides (`body.value`, `path`, …).
 */
export const ZVaultRefInput = z.strictObject({ vault_id: ZUuid });
export const ZSecretRefInput = z.strictObject({ vault_id: ZUuid, path: ZSecretPath });
export const ZSecretVersionRefInput = z.strictObject({ vault_id: ZUuid, path: ZSecretPath, version: ZSecretVersionParams.shape.version });
export const ZPutSecretActionInput = z.strictObject({ vault_id: ZUuid, path: ZSecretPath, body: ZPutSecretRequest });

export type VaultRefInput = z.input<typeof ZVaultRefInput>;
export type SecretRefInput = z.input<typeof ZSecretRefInput>;
// The contract coerces the version (it comes from a URL there); callers here pass a number.
export type SecretVersionRefInput = z.output<typeof ZSecretVersionRefInput>;
export type PutSecretActionInput = z.input<typeof ZPutSecretActionInput>;
