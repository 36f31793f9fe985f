import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createApiApp } from "../../server/api/app";
import { OPENAPI_PATH } from "../../server/api/openapi";
import { startTestServer, type TestServer } from "../helpers/server";

/* eslint-disable @typescript-eslint/no-explicit-any -- the document is asserted field by field */
type Doc = any;

const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"] as const;

/** `/v1/vaults/:id/secrets/:path{.+}` → `/v1/vaults/{id}/secrets/{path}` */
const honoToOpenApi = (p: string) => p.replace(/:(\w+)(\{[^}]*\})?/g, "{$1}");

function operations(doc: Doc): Array<{ method: string; path: string; op: any }> {
  return Object.entries(doc.paths as Record<string, any>).flatMap(([p, item]) =>
    METHODS.filter((m) => item[m]).map((m) => ({ method: m, path: p, op: item[m] })),
  );
}

/** Fills path parameters with values that pass the route's own validation where that's cheap. */
const concretePath = (p: string) =>
  p.replace(/\{(\w+)\}/g, (_, name: string) => (name === "path" ? "a/b" : name === "version" ? "1" : /id$/.test(name) ? randomUUID() : "x"));

let server: TestServer;
let doc: Doc;
let served: Response;

beforeAll(async () => {
  server = await startTestServer();
  served = await fetch(server.url + OPENAPI_PATH);
  doc = await served.clone().json();
});
afterAll(async () => server?.close());

describe("GET /v1/openapi.json", () => {
  test("is an OpenAPI 3.1 document for this server with the bearer scheme", () => {
    expect(served.status).toBe(200);
    expect(served.headers.get("content-type")).toMatch(/^application\/json/);
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info.title).toBe("Talon API");
    expect(doc.info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(doc.servers).toEqual([{ url: server.rt.config.publicUrl, description: expect.any(String) }]);
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.components.securitySchemes.bearerAuth.description).toMatch(/1ck_.*\n.*ocv_/s);
    expect(doc.components.schemas.Problem.properties).toHaveProperty("detail");
  });

  test("path keys carry bare parameter names, and the catch-all path says it may contain '/'", () => {
    const keys = Object.keys(doc.paths);
    expect(keys.filter((k) => /\{\w+\{/.test(k))).toEqual([]);
    expect(keys).toContain("/v1/vaults/{id}/secrets/{path}");
    expect(keys).toContain("/v1/vaults/{id}/secret-version/{path}/{version}");
    const pathParam = doc.paths["/v1/vaults/{id}/secrets/{path}"].get.parameters.find((p: any) => p.name === "path");
    expect(pathParam).toMatchObject({ in: "path", required: true });
    expect(pathParam.schema.description ?? pathParam.description).toMatch(/`\/`/);
  });

  test("documents every route the API app serves (the MCP endpoint and the document itself included), and nothing it doesn't", () => {
    // Whatever any module registers is checked: the router's own table, not a list kept here.
    const app = createApiApp(server.rt);
    const servedRoutes = new Set(app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method.toLowerCase()} ${honoToOpenApi(r.path)}`));
    const documented = new Set(operations(doc).map((o) => `${o.method} ${o.path}`));
    expect([...servedRoutes].filter((r) => !documented.has(r)).sort()).toEqual([]);
    expect([...documented].filter((r) => !servedRoutes.has(r)).sort()).toEqual([]);
    // Middleware mounted on a path (method ALL) would serve requests no operation describes.
    expect(app.routes.filter((r) => r.method === "ALL" && r.path !== "/*" && r.path !== "*").map((r) => r.path)).toEqual([]);
    for (const route of ["get /v1/openapi.json", "post /mcp", "delete /mcp", "get /mcp", "get /.well-known/jwks.json"]) expect(documented).toContain(route);
    expect(documented.size).toBeGreaterThan(20);
  });

  test("every operation has an id, and declares its errors as problem+json (400 with input, 401 when secured)", () => {
    const ids = new Set<string>();
    const missing: string[] = [];
    for (const { method, path: p, op } of operations(doc)) {
      const where = `${method.toUpperCase()} ${p}`;
      expect(op.operationId, where).toMatch(/^[a-zA-Z][a-zA-Z0-9]*$/);
      expect(ids.has(op.operationId), `${where}: duplicate operationId`).toBe(false);
      ids.add(op.operationId);
      const errors = Object.entries(op.responses as Record<string, any>).filter(([code]) => !/^[23]/.test(code));
      for (const [code, res] of errors) {
        // The HSM health check answers 503 with its status report (the card's shape), not a problem.
        if (p === "/v1/health/hsm" && code === "503") continue;
        const content = { ...res.content };
        // The MCP transport reports protocol errors as JSON-RPC error objects, beside our problems.
        if (p === "/mcp" && content["application/json"]?.schema.$ref === "#/components/schemas/JsonRpcError") delete content["application/json"];
        if (p === "/mcp" && Object.keys(content).length === 0) continue;
        expect(Object.keys(content), `${where} ${code}`).toEqual(["application/problem+json"]);
        expect(content["application/problem+json"].schema.$ref, `${where} ${code}`).toBe("#/components/schemas/Problem");
      }
      const takesInput = (op.parameters?.length ?? 0) > 0 || op.requestBody !== undefined;
      if (takesInput && !op.responses["400"]) missing.push(`${where}: 400`);
      const secured = op.security.length > 0 && !op.security.some((s: object) => Object.keys(s).length === 0);
      if (secured && !op.responses["401"]) missing.push(`${where}: 401`);
    }
    expect(missing).toEqual([]);
  });

  test("`security` matches what each route enforces: secured → 401 without credentials, public or optional → not 401", async () => {
    const wrong: string[] = [];
    for (const { method, path: p, op } of operations(doc)) {
      const hasBody = op.requestBody !== undefined;
      const res = await fetch(server.url + concretePath(p), {
        method: method.toUpperCase(),
        headers: hasBody ? { "Content-Type": "application/json" } : {},
        body: hasBody ? "{}" : undefined,
      });
      await res.arrayBuffer();
      // `[{}, {bearerAuth: []}]` is OpenAPI for "credentials optional" (e.g. reading a link share).
      const secured = op.security.length > 0 && !op.security.some((s: object) => Object.keys(s).length === 0);
      if (secured && res.status !== 401) wrong.push(`${method.toUpperCase()} ${p}: secured but answered ${res.status}`);
      if (!secured && res.status === 401) wrong.push(`${method.toUpperCase()} ${p}: public but answered 401`);
      if (secured) expect(op.security).toEqual([{ bearerAuth: [] }]);
    }
    expect(wrong).toEqual([]);
  });

  test("passes `redocly lint` (recommended rules, offline) without errors or warnings", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "talon-openapi-"));
    try {
      const file = path.join(dir, "openapi.json");
      writeFileSync(file, JSON.stringify(doc));
      const bin = path.resolve("node_modules/.bin/redocly");
      const { stdout } = await promisify(execFile)(bin, ["lint", file, "--config", path.resolve("redocly.yaml"), "--format=json"], {
        env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
        timeout: 60_000,
      }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? "" }));
      const report = JSON.parse(stdout) as { problems: Array<{ ruleId: string; severity: string; message: string; location: Array<{ pointer: string }> }> };
      expect(report.problems.map((p) => `${p.severity} ${p.ruleId} ${p.location[0]?.pointer}: ${p.message}`)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
