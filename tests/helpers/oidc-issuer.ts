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
  mint(claims: JWTPayload, opts?: { foreignKey?: boolean; expiresIn?: string | number; kid?: string; issuer?: string }): Promise<string>;
  close(): Promise<void>;
};

export async function startOidcIssuer(): Promise<TestOidcIssuer> {
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  const foreign = await generateKeyPair("RS256");
  const kid = "test-key-1";
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };

  let base = "";
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (path === "/.well-known/openid-configuration") {
      return send(200, { issuer: base, jwks_uri: `${base}/jwks`, id_token_signing_alg_values_supported: ["RS256"], subject_types_supported: ["public"], response_types_supported: ["id_token"] });
    }
    if (path === "/jwks") return send(200, { keys: [jwk] });
    send(404, { error: "not_found" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    issuer: base,
    jwksUrl: `${base}/jwks`,
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
