/**
 * A compact JWS (three base64url parts joined by dots): what the server, the DPoP proof check and the
 * SDK take for a JWT before anything is decoded. A shape, not a check: only a signature verifies one.
 */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export const isJwtShaped = (s: string) => JWT_SHAPE.test(s);
