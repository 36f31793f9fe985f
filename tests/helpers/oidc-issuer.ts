import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";

/**
 * A real OpenID Connect issuer on loopback, enough for ID-token sign-in: discovery, a JWKS with an
 * RS256 key made by jose, and `mint()` to issue ID tokens as the issuer would. `foreignKey` signs
 * with a key the JWKS does not publish (a forged token).
 */
export type TestOidcIssuer = {
  issuer: string;
  jwksUrl: string;
  /** The paths requested so far, in order (to prove what a server did or did not fetch). */
  requests: string[];
  /** The public key its JWKS publishes (for hand-built JWKS answers). */
  publicJwk: Record<string, unknown>;
  mint(claims: JWTPayload, opts?: { foreignKey?: boolean; expiresIn?: string | number; kid?: string; issuer?: string }): Promise<string>;
  close(): Promise<void>;
};

/** An answer in place of the issuer's own: a failure, or a hostile or oversized document. `chunked` streams it without a length. */
export type IssuerAnswer = { status: number; body: unknown; chunked?: boolean };

/**
 * `respond` may answer a path instead (undefined = the normal answer). The discovery document names
 * the issuer by the Host it was asked at, so the same server can stand for another address of itself.
 */
export async function startOidcIssuer(opts: { respond?: (path: string, base: string) => IssuerAnswer | undefined } = {}): Promise<TestOidcIssuer> {
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  const foreign = await generateKeyPair("RS256");
  const kid = "test-key-1";
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };

  let base = "";
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    requests.push(path);
    const send = (status: number, body: unknown, chunked = false) => {
      const text = JSON.stringify(body);
      if (!chunked) {
        res.writeHead(status, { "Content-Type": "application/json" });
        return res.end(text);
      }
      res.writeHead(status, { "Content-Type": "application/json", "Transfer-Encoding": "chunked" });
      for (let i = 0; i < text.length; i += 64 * 1024) res.write(text.slice(i, i + 64 * 1024));
      res.end();
    };
    const override = opts.respond?.(path, base);
    if (override) return send(override.status, override.body, override.chunked);
    if (path === "/.well-known/openid-configuration") {
      const asked = `http://${req.headers.host ?? ""}`;
      return send(200, { issuer: asked, jwks_uri: `${asked}/jwks`, id_token_signing_alg_values_supported: ["RS256"], subject_types_supported: ["public"], response_types_supported: ["id_token"] });
    }
    if (path === "/jwks") return send(200, { keys: [jwk] });
    send(404, { error: "not_found" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    issuer: base,
    jwksUrl: `${base}/jwks`,
    requests,
    publicJwk: jwk,
    async mint(claims, opts = {}) {
      return new SignJWT(claims)
        .setProtectedHeader({ alg: "RS256", kid: opts.kid ?? kid, typ: "JWT" })
        .setIssuer(opts.issuer ?? base)
        .setIssuedAt()
        .setExpirationTime(opts.expiresIn ?? "5m")
        .sign(opts.foreignKey ? foreign.privateKey : privateKey);
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
