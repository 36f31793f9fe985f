import { z } from "@hono/zod-openapi";
import { ZUuid } from "./common";
import { ZSecretType } from "./secrets";

/**
 * `talon run` with the `use` permission: the CLI asks Talon for an env_bundle's text to put into a
 * child process's environment. It needs `use` (or `read`, which implies it) on the path, is counted
 * against the version's `max_access_count` like a read, and is audited as `secret.use` with
 * `purpose: "run"` — never with the value. The value does reach the CLI and the process it starts:
 * `use` keeps it out of API answers meant to be read (and a model's context), not out of that process.
 */
export const SECRET_USE_PURPOSES = ["run"] as const;
export const SECRET_INJECTABLE_TYPES = ["env_bundle"] as const;

export const ZSecretInjectRequest = z
  .strictObject({
    purpose: z.enum(SECRET_USE_PURPOSES).openapi({ description: "What the value is used for; `run`: `talon run` puts the bundle's variables into a child process's environment" }),
  })
  .openapi("SecretInjectRequest");
export type SecretInjectRequest = z.infer<typeof ZSecretInjectRequest>;

export const ZSecretInjectResponse = z
  .object({
    id: ZUuid,
    path: z.string(),
    type: ZSecretType,
    version: z.number().int(),
    value: z.string().openapi({ description: "The env_bundle's KEY=VALUE text (in a CMEK vault, the customer-key blob the CLI opens)" }),
    cmek_encrypted: z.boolean(),
  })
  .openapi("SecretInjected");
export type SecretInjectResponse = z.infer<typeof ZSecretInjectResponse>;
