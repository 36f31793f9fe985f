import { z } from "zod";

/**
 * What the dashboard's passkey actions accept. The WebAuthn response objects are the JSON the browser
 * produces (SimpleWebAuthn's `startRegistration`/`startAuthentication`); their inner structure belongs
 * to the W3C spec and grows with it, so inner objects pass through unknown members, but every string
 * is bounded and the whole is capped, and SimpleWebAuthn verifies every byte that matters.
 */
const B64 = z.string().min(1).max(16_384).regex(/^[A-Za-z0-9_-]*={0,2}$/, { message: "must be base64url" });
const MAX_RESPONSE_JSON = 64 * 1024;
const capped = <S extends z.ZodType>(s: S) => s.refine((v) => JSON.stringify(v).length <= MAX_RESPONSE_JSON, { message: "response too large" });

export const ZPasskeyName = z.string().trim().min(1, { message: "give the passkey a name" }).max(64);

export const ZRegistrationResponse = capped(
  z.looseObject({
    id: B64,
    rawId: B64,
    type: z.literal("public-key"),
    response: z.looseObject({ clientDataJSON: B64, attestationObject: B64, transports: z.array(z.string().max(32)).max(10).optional() }),
  }),
);

export const ZAuthenticationResponse = capped(
  z.looseObject({
    id: B64,
    rawId: B64,
    type: z.literal("public-key"),
    response: z.looseObject({ clientDataJSON: B64, authenticatorData: B64, signature: B64, userHandle: B64.optional() }),
  }),
);

export const ZRegisterPasskeyInput = z.strictObject({ challenge_id: z.uuid(), name: ZPasskeyName, response: ZRegistrationResponse });
export const ZPasskeySignInInput = z.strictObject({ challenge_id: z.uuid(), response: ZAuthenticationResponse });

export type PasskeySummary = { id: string; name: string; created_at: string; last_used_at: string | null; transports: string[] };
