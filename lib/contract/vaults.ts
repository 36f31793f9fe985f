import { z } from "@hono/zod-openapi";
import { ZUuid } from "./common";

export const ZCreateVaultRequest = z
  .strictObject({
    name: z.string().trim().min(1).max(255).openapi({ example: "production" }),
    description: z.string().max(1024).optional().openapi({ example: "Keys for the production agents" }),
  })
  .openapi("CreateVaultRequest");

export const ZVaultResponse = z
  .object({
    id: ZUuid,
    name: z.string(),
    description: z.string(),
    created_by: z.string().openapi({ description: "Id of the user or agent that created the vault; `system` for Talon's own" }),
    created_by_type: z.enum(["user", "agent", "system"]).openapi({ description: "`system`: Talon's system vault `__agent-keys`, never listed" }),
    created_at: z.string(),
    cmek_enabled: z.boolean(),
    cmek_fingerprint: z.string().nullable(),
    cmek_job_id: ZUuid.nullable().openapi({ description: "The customer-key job (rotation or disable) running on this vault, if any: GET /v1/vaults/{id}/cmek-rotate/{job_id}" }),
  })
  .openapi("Vault");

export const ZVaultListResponse = z.object({ vaults: z.array(ZVaultResponse) }).openapi("VaultList");

export type CreateVaultRequest = z.infer<typeof ZCreateVaultRequest>;
export type VaultResponse = z.infer<typeof ZVaultResponse>;
