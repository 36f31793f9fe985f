import { z } from "@hono/zod-openapi";
import { ZIsoDate, ZUuid } from "./common";

export const SHARE_RECIPIENT_TYPES = ["user", "agent", "anyone_with_link", "creator", "external_email"] as const;
export const SHARE_MAX_ACCESS_DEFAULT = 5;
/** An email share's link is a one-time link unless the sharer asks for more reads. */
export const EMAIL_SHARE_MAX_ACCESS_DEFAULT = 1;
export const SHARE_MAX_LIFETIME_DAYS = 90;

/**
 * `external_email` shares are for humans only (agents get 403, the card's rule against phishing): the
 * address gets a mail with a one-time link. A `user` share may name a user of another organisation,
 * by `recipient_id` or by `email`; they see it inbound and must accept it.
 */
export const ZCreateShareRequest = z
  .strictObject({
    recipient_type: z.enum(SHARE_RECIPIENT_TYPES),
    recipient_id: z
      .uuid()
      .max(36)
      .optional()
      .openapi({ description: "user shares: a user of any organisation (or give email instead); agent shares: an agent of your org" }),
    email: z
      .email()
      .max(254)
      .optional()
      .openapi({ description: "external_email shares: where the one-time link is mailed (required). user shares: the recipient's account email, instead of recipient_id" }),
    expires_at: ZIsoDate.openapi({ description: `In the future, at most ${SHARE_MAX_LIFETIME_DAYS} days ahead` }),
    max_access_count: z.number().int().min(0).max(10_000).optional().openapi({ description: "Default 5 (external_email: 1); 0 = unlimited" }),
    passphrase: z.string().min(8).max(256).optional().openapi({ description: "Readers must send it in X-Share-Passphrase" }),
    follow_latest: z
      .boolean()
      .optional()
      .openapi({ description: "Default false: the share serves the version current when it was created. true: it serves whatever version is current when read." }),
  })
  .openapi("CreateShareRequest");

export const ZShareCreated = z
  .object({
    id: ZUuid,
    share_url: z.string().openapi({ description: "The share page for a person (/s/{id}): it reveals only on an explicit click. Programs read the share with GET /v1/share/{id}." }),
    recipient_type: z.enum(SHARE_RECIPIENT_TYPES),
    recipient_id: z.string().nullable(),
    recipient_email: z.string().nullable().openapi({ description: "external_email shares: the address the link was mailed to" }),
    expires_at: z.string(),
    max_access_count: z.number().int(),
    version: z.number().int().nullable().openapi({ description: "The version this share serves; null when it follows the latest" }),
    follow_latest: z.boolean(),
  })
  .openapi("ShareCreated");

export const ZSharedSecret = z
  .object({
    id: ZUuid,
    path: z.string(),
    type: z.string(),
    value: z.string(),
    version: z.number().int(),
    access_count: z.number().int(),
    max_access_count: z.number().int(),
    expires_at: z.string(),
  })
  .openapi("SharedSecret");

export const ZShareSummary = z
  .object({
    id: ZUuid,
    secret_path: z.string(),
    recipient_type: z.enum(SHARE_RECIPIENT_TYPES),
    recipient_id: z.string().nullable(),
    recipient_email: z.string().nullable().openapi({ description: "external_email shares: the address the link was mailed to" }),
    access_count: z.number().int(),
    max_access_count: z.number().int(),
    expires_at: z.string(),
    created_at: z.string(),
    is_expired: z.boolean(),
    is_accepted: z.boolean(),
    created_by: z.string().openapi({ description: "Who shared it: user:<id> or agent:<id>" }),
    version: z.number().int().nullable().openapi({ description: "The version the share serves; null when it follows the latest" }),
    follow_latest: z.boolean(),
    is_ended: z.boolean().openapi({ description: "The shared secret was deleted: the share serves nothing any more" }),
  })
  .openapi("ShareSummary");

export const ZShareList = z.object({ shares: z.array(ZShareSummary) }).openapi("ShareList");

export const SHARE_LIST_SCOPES = ["outbound", "inbound", "org"] as const;

export const ZListSharesQuery = z.object({
  scope: z.enum(SHARE_LIST_SCOPES).default("outbound").openapi({
    param: { name: "scope", in: "query" },
    description: "outbound: shares you created; inbound: shares sent to you; org: every live share of the organisation (owners and admins)",
  }),
});

export const ZSecretIdParam = z.object({ secret_id: ZUuid.openapi({ param: { name: "secret_id", in: "path" } }) });

export type CreateShareRequest = z.infer<typeof ZCreateShareRequest>;
export type ShareCreated = z.infer<typeof ZShareCreated>;
export type SharedSecret = z.infer<typeof ZSharedSecret>;
export type ShareSummary = z.infer<typeof ZShareSummary>;
export type ShareRecipientType = (typeof SHARE_RECIPIENT_TYPES)[number];
export type ShareListScope = (typeof SHARE_LIST_SCOPES)[number];

/** A share the caller created, with its recipient named for display (dashboard). */
export type OutboundShareRow = ShareSummary & { recipient_label: string; declined: boolean };
/** A share sent to the caller, with its sender named; whether reading it needs a passphrase (never the passphrase). */
export type InboundShareRow = ShareSummary & { sender_label: string; needs_passphrase: boolean };
/** Any share of the org, with its sender and recipient named (the owners' and admins' list). */
export type OrgShareRow = ShareSummary & { sender_label: string; recipient_label: string; declined: boolean };
