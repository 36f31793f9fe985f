import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentWithVault, NO_LIMITS } from "../mcp/helpers";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * The 64 KiB body cap on the real HTTP listener, for both ways a client can send a body: with a
 * Content-Length (refused before a byte is read) and chunked (read under the cap, refused as soon as
 * it passes it). A chunked body under the cap reaches both kinds of reader: the validated JSON routes
 * and the handlers that read the raw `Request` (the hosted MCP transport).
 */

let server: TestServer;
let owner: Awaited<ReturnType<typeof agentWithVault>>;

type Answer = { status: number; headers: Record<string, string | string[] | undefined>; text: string };

/** One request over a real socket; `chunks` are written one by one with chunked transfer encoding unless a Content-Length is set. */
function send(method: string, path: string, headers: Record<string, string>, chunks: string[]): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, server.url);
    const req = request(url, { method, headers, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    // A refused upload may see its socket closed while it is still writing: the answer came first.
    req.on("error", (e) => (String(e).includes("EPIPE") || String(e).includes("ECONNRESET") ? undefined : reject(e)));
    const writeNext = (i: number) => {
      if (i === chunks.length) return void req.end();
      if (!req.write(chunks[i])) req.once("drain", () => writeNext(i + 1));
      else setImmediate(() => writeNext(i + 1));
    };
    writeNext(0);
  });
}

const json = { "content-type": "application/json" };
const auth = () => ({ authorization: `Bearer ${owner.human.token}` });
const secretPath = (name: string) => `/v1/vaults/${owner.vaultId}/secrets/limits/${name}`;

beforeAll(async () => {
  server = await startTestServer({ env: NO_LIMITS });
  owner = await agentWithVault(server);
}, 120_000);

afterAll(async () => {
  await server?.close();
});

describe("request body cap", () => {
  it("a chunked body under the cap is read: the secret is stored and reads back", async () => {
    const body = JSON.stringify({ value: "chunked-value-1", type: "api_key" });
    const put = await send("PUT", secretPath("chunked"), { ...json, ...auth() }, [body.slice(0, 7), body.slice(7, 20), body.slice(20)]);
    expect(put.status, put.text).toBe(201);
    const read = await owner.api.get(secretPath("chunked"));
    expect(read.status).toBe(200);
    expect(read.body.value).toBe("chunked-value-1");
  });

  it("a chunked body past the cap is refused with 413 as it passes, nothing stored, the connection closed", async () => {
    const filler = "x".repeat(8 * 1024);
    const chunks = ['{"value":"', ...Array.from({ length: 12 }, () => filler), '"}'];
    const res = await send("PUT", secretPath("huge-chunked"), { ...json, ...auth() }, chunks);
    expect(res.status).toBe(413);
    expect(res.headers["content-type"]).toContain("application/problem+json");
    expect(res.headers.connection).toBe("close");
    expect(JSON.parse(res.text)).toMatchObject({ status: 413, detail: "Request body exceeds 64 KiB" });
    expect(res.text).not.toContain("xxxx");
    expect((await owner.api.get(secretPath("huge-chunked"))).status).toBe(404);
  });

  it("a declared Content-Length past the cap is refused before the body is read", async () => {
    const body = JSON.stringify({ value: "y".repeat(65 * 1024) });
    const res = await send("PUT", secretPath("huge-declared"), { ...json, ...auth(), "content-length": String(Buffer.byteLength(body)) }, [body]);
    expect(res.status).toBe(413);
    expect(res.text).not.toContain("yyyy");
    expect((await owner.api.get(secretPath("huge-declared"))).status).toBe(404);
  });

  it("malformed JSON in a chunked body is the same 400 as with a Content-Length", async () => {
    const chunked = await send("PUT", secretPath("bad"), { ...json, ...auth() }, ['{"value": ', "nope"]);
    const declared = await send("PUT", secretPath("bad"), { ...json, ...auth(), "content-length": "15" }, ['{"value": nope}']);
    expect(chunked.status).toBe(400);
    expect(declared.status).toBe(400);
    expect(JSON.parse(chunked.text).detail).toBe(JSON.parse(declared.text).detail);
  });

  it("a chunked body reaches a handler that reads the raw Request: an MCP initialize opens a session", async () => {
    const init = JSON.stringify({ jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "chunked", version: "1" } } });
    const headers = { ...json, accept: "application/json, text/event-stream", authorization: `Bearer ${owner.apiKey}`, "x-vault-id": owner.vaultId };
    const res = await send("POST", "/mcp", headers, [init.slice(0, 30), init.slice(30)]);
    expect(res.status, res.text).toBe(200);
    expect(res.headers["mcp-session-id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(res.text)).toMatchObject({ jsonrpc: "2.0", id: 0, result: { serverInfo: expect.any(Object) } });
  });
});
