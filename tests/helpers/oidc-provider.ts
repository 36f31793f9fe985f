import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair } from "jose";
import Provider from "oidc-provider";

/**
 * RFC 8707 wants an absolute URI as the resource. Tokens for this resource carry `aud` = `audience`;
 * a token for any other resource URI carries that URI as its `aud` (to test audience checks).
 */
export const TALON_RESOURCE = "urn:talon:api";

export type OidcIssuer = {
  issuer: string;
  /** A client-credentials access token (a JWT, audience `audience`) for `clientId`, fetched over HTTP from the token endpoint. */
  clientCredentialsToken(opts?: { clientId?: string; resource?: string }): Promise<string>;
  close(): Promise<void>;
};

/**
 * A real OpenID Provider (the `oidc-provider` package) on a loopback port: discovery, JWKS and a token
 * endpoint issuing client-credentials access tokens as JWTs (through resource indicators). Tokens
 * are obtained over real HTTP, as an agent would.
 */
export async function startOidcIssuer(opts: { clients: { clientId: string; clientSecret: string }[]; audience: string }): Promise<OidcIssuer> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: "test-key-1", alg: "RS256", use: "sig" };
  const provider = new Provider(issuer, {
    clients: opts.clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      grant_types: ["client_credentials"],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: "client_secret_post",
    })),
    jwks: { keys: [jwk] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => TALON_RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string) => ({
          scope: "agent",
          audience: resource === TALON_RESOURCE ? opts.audience : resource,
          accessTokenFormat: "jwt",
          accessTokenTTL: 300,
          jwt: { sign: { alg: "RS256" } },
        }),
      },
    },
  });
  server.on("request", provider.callback());
  const [first] = opts.clients;
  return {
    issuer,
    async clientCredentialsToken({ clientId = first!.clientId, resource = TALON_RESOURCE } = {}) {
      const clientSecret = opts.clients.find((c) => c.clientId === clientId)?.clientSecret ?? "";
      const res = await fetch(`${issuer}/token`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ grant_type: "client_credentials", client_id: clientId, client_secret: clientSecret, resource, scope: "agent" }),
      });
      const body = (await res.json()) as { access_token?: string; error?: string };
      if (!res.ok || !body.access_token) throw new Error(`token endpoint answered ${res.status} ${body.error ?? ""}`);
      return body.access_token;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
