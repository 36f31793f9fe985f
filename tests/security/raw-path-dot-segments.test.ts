import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";
import { createApiApp } from "../../server/api/app";
import { createDispatcher } from "../../server/http/node-listener";

/**
 * An API request whose raw path has `.` or `..` segments, in any encoding, is refused with 400
 * problem+json before URL normalisation and changes nothing. The dispatcher and the routes only see
 * the normalised URL, so without this `PUT …/secrets/a/../b` wrote `b` past the secret-path check.
 * fetch() normalises such paths before sending, so these requests go out through node:http with the
 * path exactly as written.
 */
let server: TestServer;
let token: string;
let vaultId: string;

type RawResponse = { status: number; contentType: string; text: string };

function rawRequest(baseUrl: string, method: string, path: string, body?: unknown, auth = token): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        hostname,
        port,
        method,
        path,
        headers: { Authorization: `Bearer ${auth}`, ...(payload ? { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(payload) } : {}) },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode!, contentType: String(res.headers["content-type"] ?? ""), text }));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

const secretsBase = () => `/v1/vaults/${vaultId}/secrets`;
const storedPaths = async () => (await server.rt.db.secret.findMany({ where: { vaultId }, select: { path: true } })).map((s) => s.path).sort();
const eventCount = () => server.rt.db.auditEvent.count();

beforeAll(async () => {
  server = await startTestServer();
  const owner = await signUpVerified(server);
  token = owner.token;
  await server.rt.db.org.update({ where: { id: owner.orgId }, data: { tier: "enterprise" } });
  vaultId = (await client(server.url, token).post("/v1/vaults", { name: "dots" })).body.id;
});
afterAll(async () => {
  await server?.close();
});

function expectDotRefusal(res: RawResponse) {
  expect(res.status).toBe(400);
  expect(res.contentType).toContain("application/problem+json");
  const body = JSON.parse(res.text);
  expect(body).toMatchObject({ status: 400, title: "Bad Request" });
  expect(body.detail).toMatch(/'\.' or '\.\.' segments/);
  expect(body.fields).toEqual([{ field: "path", message: expect.any(String) }]);
}

describe("raw request paths with dot segments", () => {
  const spellings = ["a/../b", "a/%2E%2E/b", "a/%2e%2e/b", "a/.%2E/b", "a/%2e./b", "a/./b", "a/%2e/b", "a/%2E/b", "a/b/..", "a/%2e%2E%2fb", "a/..%2Fb", "a/..%5cb"];

  it("PUT with any spelling of a dot segment: 400 problem+json, no secret written, no audit event", async () => {
    const before = await eventCount();
    for (const p of spellings) {
      const res = await rawRequest(server.url, "PUT", `${secretsBase()}/${p}`, { value: "planted" });
      expectDotRefusal(res);
    }
    expect(await storedPaths()).toEqual([]);
    expect(await eventCount()).toBe(before);
  });

  it("positive control: the same raw client writes a/b without dot segments (201)", async () => {
    const res = await rawRequest(server.url, "PUT", `${secretsBase()}/a/b`, { value: "real" });
    expect(res.status).toBe(201);
    expect(JSON.parse(res.text)).toMatchObject({ path: "a/b", version: 1 });
    expect(await storedPaths()).toEqual(["a/b"]);
  });

  it("reads, deletes and rotations through a dot segment are refused too, and the secret stays as it was", async () => {
    expectDotRefusal(await rawRequest(server.url, "GET", `${secretsBase()}/x/../a/b`));
    expectDotRefusal(await rawRequest(server.url, "DELETE", `${secretsBase()}/a/c/%2E%2E/b`));
    expectDotRefusal(await rawRequest(server.url, "POST", `/v1/vaults/${vaultId}/secret-rotate/a/./b`, {}));
    const read = await rawRequest(server.url, "GET", `${secretsBase()}/a/b`);
    expect(read.status).toBe(200);
    expect(JSON.parse(read.text)).toMatchObject({ value: "real", version: 1 });
  });

  it("dot segments anywhere in an API path are refused, including ones that climb into or out of /v1", async () => {
    expectDotRefusal(await rawRequest(server.url, "GET", "/x/../v1/health"));
    expectDotRefusal(await rawRequest(server.url, "GET", "/v1/./health"));
    expectDotRefusal(await rawRequest(server.url, "GET", "/v1/../v1/health"));
    expectDotRefusal(await rawRequest(server.url, "GET", "/.well-known/%2e%2e/v1/health"));
    expectDotRefusal(await rawRequest(server.url, "POST", "/mcp/..", {}));
    // Positive control: the plain path answers.
    expect((await rawRequest(server.url, "GET", "/v1/health")).status).toBe(200);
  });

  it("dots inside a segment or in the query are not dot segments", async () => {
    const query = await rawRequest(server.url, "GET", "/v1/audit/events?action=a/../b");
    expect(query.status).toBe(200);
    // `..b` is one segment named "..b": the secret-path check refuses it (400 naming path), not the dispatcher.
    const inSegment = await rawRequest(server.url, "PUT", `${secretsBase()}/a/..b`, { value: "x" });
    expect(inSegment.status).toBe(400);
    expect(JSON.parse(inSegment.text).fields[0].field).toBe("path");
    expect(await storedPaths()).toEqual(["a/b"]);
  });

  it("with a non-API fallback (Next.js in production): API-looking dot paths get 400, others still reach the fallback", async () => {
    const withFallback: Server = createServer(
      createDispatcher(createApiApp(server.rt), (_req, res) => {
        res.writeHead(299).end("fallback");
      }),
    );
    await new Promise<void>((resolve) => withFallback.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(withFallback.address() as AddressInfo).port}`;
    try {
      expectDotRefusal(await rawRequest(url, "PUT", `${secretsBase()}/a/../b`, { value: "planted" }));
      expectDotRefusal(await rawRequest(url, "GET", "/v1/../audit"));
      expectDotRefusal(await rawRequest(url, "GET", "/dashboard/../v1/health"));
      expect((await rawRequest(url, "GET", "/dashboard/../audit")).status).toBe(299);
      expect((await rawRequest(url, "GET", "/v1/health")).status).toBe(200);
    } finally {
      withFallback.closeAllConnections();
      await new Promise((resolve) => withFallback.close(resolve));
    }
    expect(await storedPaths()).toEqual(["a/b"]);
  });
});
