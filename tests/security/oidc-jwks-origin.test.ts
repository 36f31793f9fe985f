import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { NO_LIMITS } from "../helpers/agents";
import { client } from "../helpers/http";
import { type IssuerAnswer, startOidcIssuer, type TestOidcIssuer } from "../helpers/oidc-issuer";
import { startTestServer, type TestServer } from "../helpers/server";
import { OIDC_MAX_BODY_BYTES, OIDC_NEGATIVE_CACHE_MS } from "../../server/identity/oidc-agents";

/**
 * What an OIDC agent's token exchange makes Talon fetch is bounded: the JWKS only at the issuer's
 * own origin, https unless the issuer is on loopback, bodies (discovery and JWKS) at most 1 MiB, and
 * a failed fetch remembered for a minute so a broken issuer is not hammered once per request. Every
 * refusal sits beside an issuer built the same way that works. Each case has its own issuer, since
 * Talon caches per issuer.
 */
const padding = (bytes: number) => "x".repeat(bytes);
let server: TestServer;
let human: Awaited<ReturnType<typeof signUpVerified>>;

/** Switches per issuer: what its next answers are (undefined = the normal ones). */
const behaviour = new Map<string, (path: string, base: string) => IssuerAnswer | undefined>();
const issuers: Record<string, TestOidcIssuer> = {};
const names = ["good", "elsewhere", "jwksHost", "bigDiscovery", "bigJwks", "bigJwksChunked", "flakyDiscovery", "flakyJwks", "plainHttp", "underCap"] as const;

async function issuerNamed(name: string) {
  const issuer = await startOidcIssuer({ respond: (path, base) => behaviour.get(name)?.(path, base) });
  issuers[name] = issuer;
}

/** The non-loopback spelling of the plain-http issuer: 0.0.0.0 reaches the same server on Linux. */
const plainHttpIssuer = () => issuers.plainHttp!.issuer.replace("127.0.0.1", "0.0.0.0");

beforeAll(async () => {
  for (const n of names) await issuerNamed(n);
  // A discovery document pointing at another origin (another port is another origin).
  behaviour.set("elsewhere", (path, base) =>
    path === "/.well-known/openid-configuration" ? { status: 200, body: { issuer: base, jwks_uri: `${issuers.jwksHost!.issuer}/jwks` } } : undefined,
  );
  const allowed = [...names.map((n) => issuers[n]!.issuer), plainHttpIssuer()];
  server = await startTestServer({ env: { ...NO_LIMITS, TALON_OIDC_ALLOWED_ISSUERS: allowed.join(",") } });
  human = await signUpVerified(server);
});
afterAll(async () => {
  await server?.close();
  for (const i of Object.values(issuers)) await i.close();
});
afterEach(() => {
  vi.useRealTimers();
});

async function oidcAgent(issuer: string, clientId: string): Promise<string> {
  const res = await client(server.url, human.token).post("/v1/agents", { name: `oidc-${clientId}`, auth_method: "oidc_client_credentials", oidc_issuer: issuer, oidc_client_id: clientId });
  if (res.status !== 201) throw new Error(`agent registration failed: ${res.status} ${res.text}`);
  return res.body.agent.id as string;
}

async function exchangeWith(name: string, clientId: string, issuerUrl = issuers[name]!.issuer) {
  const agentId = await oidcAgent(issuerUrl, clientId);
  const assertion = () => issuers[name]!.mint({ sub: clientId, aud: "talon-api" }, { issuer: issuerUrl });
  const exchange = async () => (await client(server.url).post("/v1/auth/agent-token", { agent_id: agentId, client_assertion: await assertion() })).status;
  return { agentId, exchange };
}

const count = (name: string, path: string) => issuers[name]!.requests.filter((p) => p === path).length;
const DISCOVERY = "/.well-known/openid-configuration";

describe("jwks_uri must be at the issuer's origin", () => {
  it("positive control: an issuer serving its own JWKS works", async () => {
    const { exchange } = await exchangeWith("good", "good-client");
    expect(await exchange()).toBe(200);
  });

  it("a discovery document pointing the JWKS at another origin is refused, and that origin is never fetched", async () => {
    const { agentId, exchange } = await exchangeWith("elsewhere", "elsewhere-client");
    // Signed with the other origin's key, which its JWKS publishes: only the origin rule can refuse it.
    const forged = await issuers.jwksHost!.mint({ sub: "elsewhere-client", aud: "talon-api" }, { issuer: issuers.elsewhere!.issuer });
    expect((await client(server.url).post("/v1/auth/agent-token", { agent_id: agentId, client_assertion: forged })).status).toBe(401);
    expect(await exchange()).toBe(401);
    expect(count("jwksHost", "/jwks")).toBe(0);
  });
});

describe("https unless the issuer is on loopback", () => {
  it("positive control: the same server over loopback works", async () => {
    const { exchange } = await exchangeWith("plainHttp", "loop-client");
    expect(await exchange()).toBe(200);
  });

  it("an http issuer that is not loopback is refused before anything is fetched", async () => {
    const before = issuers.plainHttp!.requests.length;
    const { exchange } = await exchangeWith("plainHttp", "plain-client", plainHttpIssuer());
    expect(await exchange()).toBe(401);
    expect(issuers.plainHttp!.requests.length).toBe(before);
  });
});

describe("bodies are capped at 1 MiB", () => {
  it("a discovery document over the cap is refused", async () => {
    behaviour.set("bigDiscovery", (path, base) =>
      path === DISCOVERY ? { status: 200, body: { issuer: base, jwks_uri: `${base}/jwks`, padding: padding(OIDC_MAX_BODY_BYTES) } } : undefined,
    );
    const { exchange } = await exchangeWith("bigDiscovery", "big-d");
    expect(await exchange()).toBe(401);
    expect(count("bigDiscovery", "/jwks")).toBe(0);
  });

  it("a JWKS over the cap is refused, with or without a Content-Length", async () => {
    for (const [name, chunked] of [["bigJwks", false], ["bigJwksChunked", true]] as const) {
      // The right key, padded: only the cap can refuse it.
      behaviour.set(name, (path) => (path === "/jwks" ? { status: 200, body: { keys: [issuers[name]!.publicJwk], padding: padding(OIDC_MAX_BODY_BYTES) }, chunked } : undefined));
      const { exchange } = await exchangeWith(name, `big-${name}`);
      expect(await exchange()).toBe(401);
      expect(count(name, "/jwks")).toBe(1);
    }
  });

  it("positive control: a document just under the cap is read", async () => {
    behaviour.set("underCap", (path, base) =>
      path === DISCOVERY ? { status: 200, body: { issuer: base, jwks_uri: `${base}/jwks`, padding: padding(OIDC_MAX_BODY_BYTES - 4096) }, chunked: true } : undefined,
    );
    const { exchange } = await exchangeWith("underCap", "under-cap");
    expect(await exchange()).toBe(200);
  });
});

describe("failures are cached for a minute", () => {
  it("a failed discovery is not retried within 60 s, and is after", async () => {
    let broken = true;
    behaviour.set("flakyDiscovery", (path) => (broken && path === DISCOVERY ? { status: 500, body: { error: "down" } } : undefined));
    const { exchange } = await exchangeWith("flakyDiscovery", "flaky-d");
    expect(await exchange()).toBe(401);
    expect(count("flakyDiscovery", DISCOVERY)).toBe(1);
    broken = false;
    expect(await exchange()).toBe(401);
    expect(await exchange()).toBe(401);
    expect(count("flakyDiscovery", DISCOVERY)).toBe(1);

    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + OIDC_NEGATIVE_CACHE_MS + 1000);
    expect(await exchange()).toBe(200);
    expect(count("flakyDiscovery", DISCOVERY)).toBe(2);
  });

  it("a failed JWKS fetch is not retried within 60 s", async () => {
    let broken = true;
    behaviour.set("flakyJwks", (path) => (broken && path === "/jwks" ? { status: 503, body: { error: "down" } } : undefined));
    const { exchange } = await exchangeWith("flakyJwks", "flaky-j");
    expect(await exchange()).toBe(401);
    broken = false;
    expect(await exchange()).toBe(401);
    expect(count("flakyJwks", "/jwks")).toBe(1);
    expect(count("flakyJwks", DISCOVERY)).toBe(1);

    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + OIDC_NEGATIVE_CACHE_MS + 1000);
    expect(await exchange()).toBe(200);
  });

  it("a bad assertion is not an issuer failure: the next good one works at once", async () => {
    const agentId = await oidcAgent(issuers.good!.issuer, "good-2");
    const bad = await issuers.good!.mint({ sub: "good-2", aud: "talon-api" }, { foreignKey: true });
    expect((await client(server.url).post("/v1/auth/agent-token", { agent_id: agentId, client_assertion: bad })).status).toBe(401);
    const ok = await issuers.good!.mint({ sub: "good-2", aud: "talon-api" });
    expect((await client(server.url).post("/v1/auth/agent-token", { agent_id: agentId, client_assertion: ok })).status).toBe(200);
  });
});
