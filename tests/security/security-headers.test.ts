import { unstable_getResponseFromNextConfig } from "next/experimental/testing/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import nextConfig from "../../next.config";
import { createApiApp } from "../../server/api/app";
import { client } from "../helpers/http";
import { agentWithVault, initialize } from "../mcp/helpers";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * Browser-facing hardening. Dashboard pages forbid being framed, plugins, `<base>` and scripts from
 * other origins, never sniff types and never send their paths (share ids) to other origins. API
 * responses never sniff and send no referrer. HSTS only where the instance is reached over HTTPS:
 * Talon terminating TLS itself or an https public URL — and not over plain HTTP (the control).
 * The production server (server.ts) is checked end to end in tests/startup/start.test.ts.
 */
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

describe("API responses", () => {
  it("carry nosniff and no-referrer on success and on errors, and no HSTS over plain HTTP", async () => {
    const api = client(server.url);
    for (const res of [await api.get("/v1/health"), await api.get("/v1/vaults"), await api.get("/v1/nothing-here"), await api.get("/v1/openapi.json")]) {
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
      expect(res.headers.get("strict-transport-security")).toBeNull();
    }
  });

  it("carry their request id and no-store, which a cacheable route's own Cache-Control replaces, over the network and in process", async () => {
    const app = createApiApp(server.rt);
    const http = client(server.url);
    const overHttp = async (p: string) => {
      const r = await http.get(p);
      return { headers: r.headers, body: r.body };
    };
    const inProcess = async (p: string) => {
      const r = await app.request(p);
      return { headers: r.headers, body: await r.json() };
    };
    for (const get of [overHttp, inProcess]) {
      const missing = await get("/v1/nothing-here");
      expect(missing.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
      expect(missing.body.request_id).toBe(missing.headers.get("x-request-id"));
      expect(missing.headers.get("cache-control")).toBe("no-store");
      const jwks = await get("/.well-known/jwks.json");
      expect(jwks.headers.get("cache-control")).toBe("public, max-age=300");
      expect(jwks.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
      expect(jwks.headers.get("x-content-type-options")).toBe("nosniff");
    }
  });

  it("are on a raw Response a handler returns (hosted MCP) over the network, under the handler's own headers", async () => {
    const w = await agentWithVault(server);
    const res = await initialize(server.url, { Authorization: `Bearer ${w.apiKey}`, "X-Vault-ID": w.vaultId });
    expect(res.status).toBe(200);
    expect(res.sessionId).toBeTruthy();
    expect(res.headers.get("content-type")).toMatch(/^(application\/json|text\/event-stream)/);
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
  });

  it.each([
    ["an https public URL", { publicUrl: "https://talon.example.com" }],
    ["TLS terminated by Talon", { tls: { certFile: "/unused/cert.pem", keyFile: "/unused/key.pem" } }],
  ])("carry HSTS with %s", async (_, override) => {
    const app = createApiApp({ ...server.rt, config: { ...server.rt.config, ...override } });
    for (const p of ["/v1/health", "/v1/vaults", "/v1/nothing-here"]) {
      const res = await app.request(p);
      expect(res.headers.get("strict-transport-security"), p).toBe("max-age=31536000");
      expect(res.headers.get("x-content-type-options"), p).toBe("nosniff");
    }
  });
});

describe("dashboard pages (next.config.ts headers)", () => {
  const PAGES = ["/", "/login", "/signup", "/vaults", "/vaults/0b8e3d52-6f0e-4a53-9d7e-000000000000", "/shares", "/forgot-password", "/billing", "/_next/static/chunks/main.js"];

  async function headersOf(p: string) {
    return (await unstable_getResponseFromNextConfig({ url: `http://localhost:3000${p}`, nextConfig })).headers;
  }

  it.each(PAGES)("%s forbids framing and sniffing and keeps its path to itself", async (p) => {
    const h = await headersOf(p);
    expect(h.get("x-frame-options")).toBe("DENY");
    expect(h.get("x-content-type-options")).toBe("nosniff");
    expect(h.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
    expect(h.get("content-security-policy")).toBeTruthy();
  });

  it("the CSP forbids framing, plugins, <base>, foreign scripts and foreign form targets", async () => {
    const csp = (await headersOf("/vaults")).get("content-security-policy")!;
    const directives = new Map(csp.split(";").map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name!, values]));
    expect(directives.get("frame-ancestors")).toEqual(["'none'"]);
    expect(directives.get("object-src")).toEqual(["'none'"]);
    expect(directives.get("base-uri")).toEqual(["'none'"]);
    expect(directives.get("default-src")).toEqual(["'self'"]);
    expect(directives.get("form-action")).toEqual(["'self'"]);
    // Only keywords, never a host or scheme: no other origin may serve or receive anything.
    for (const [name, values] of directives) {
      for (const v of values) expect(/^'[a-z-]+'$/.test(v) || (name === "img-src" || name === "font-src" ? ["data:", "blob:"].includes(v) : false), `${name} ${v}`).toBe(true);
    }
    // A production policy: no eval.
    expect(directives.get("script-src")).not.toContain("'unsafe-eval'");
  });
});
