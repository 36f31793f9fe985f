import { ZMfaVerifyRequest } from "@/lib/contract/auth";

/** The code step after Google: the MFA challenge itself stays in the sealed cookie, only the code is sent. */
export const ZGoogleMfaInput = ZMfaVerifyRequest.pick({ code: true });
