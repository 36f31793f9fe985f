import { describe, expect, it } from "vitest";
import { bundleText } from "./env-bundle-editor";
import { importPreview } from "./import-env-button";
import { browseSecrets } from "./secret-browser";
import type { SecretRow } from "./types";
import { parseEnvBundle } from "@/lib/sdk/env-bundle";

const NOW = Date.parse("2026-06-01T00:00:00Z");
const row = (path: string, type: SecretRow["type"], expires: string | null, created = "2026-01-01T00:00:00Z"): SecretRow => ({
  id: path,
  path,
  type,
  version: 1,
  metadata: {},
  created_at: created,
  expires_at: expires,
  max_access_count: 0,
  access_count: 0,
  disabled: false,
});
const rows = [
  row("db/main", "password", null, "2026-03-01T00:00:00Z"),
  row("db/old", "password", "2026-05-01T00:00:00Z"),
  row("api/stripe", "api_key", "2026-06-03T00:00:00Z"),
  row("api/github", "api_key", "2026-09-01T00:00:00Z", "2026-04-01T00:00:00Z"),
];
const paths = (f: Partial<Parameters<typeof browseSecrets>[1]>) => browseSecrets(rows, { query: "", type: "", expiry: "any", sort: "path:asc", ...f }, NOW).map((r) => r.path);

describe("flat secret list", () => {
  it("searches paths case-insensitively and filters by type and expiry", () => {
    expect(paths({ query: "DB/" })).toEqual(["db/main", "db/old"]);
    expect(paths({ type: "api_key" })).toEqual(["api/github", "api/stripe"]);
    expect(paths({ expiry: "expired" })).toEqual(["db/old"]);
    expect(paths({ expiry: "soon" })).toEqual(["api/stripe"]);
    expect(paths({ expiry: "never" })).toEqual(["db/main"]);
    expect(paths({ expiry: "set" })).toEqual(["api/github", "api/stripe", "db/old"]);
  });
  it("sorts by path, type, expiry (none last) and update time", () => {
    expect(paths({ sort: "path:desc" })).toEqual(["db/old", "db/main", "api/stripe", "api/github"]);
    expect(paths({ sort: "expires:asc" })).toEqual(["db/old", "api/stripe", "api/github", "db/main"]);
    expect(paths({ sort: "updated:desc" })).toEqual(["api/github", "db/main", "api/stripe", "db/old"]);
    expect(paths({ sort: "type:asc" })).toEqual(["api/github", "api/stripe", "db/main", "db/old"]);
  });
});

describe("import preview", () => {
  it("marks new paths, existing ones with their next version, and paths or values it cannot store", () => {
    const p = importPreview("A=1\nB=2\nC_=3\nEMPTY=\nbad line", "app/", { "app/B": 4 });
    expect(p.rows.map((r) => [r.path, r.status, r.note])).toEqual([
      ["app/A", "new", "New secret"],
      ["app/B", "exists", "Exists — stored as version 5"],
      ["app/C_", "invalid", expect.stringContaining("Path may contain only")],
      ["app/EMPTY", "invalid", "Empty value: skipped"],
    ]);
    expect(p.errors).toEqual([{ line: 5, message: "expected KEY=VALUE" }]);
  });
});

describe("env_bundle editor text", () => {
  it("writes KEY=VALUE lines that the bundle parser reads back, quoting only what needs it", () => {
    const vars = [
      { key: "A", value: "plain value" },
      { key: "B", value: " padded " },
      { key: "C", value: "'quoted'" },
      { key: "", value: "dropped" },
    ];
    const text = bundleText(vars);
    expect(text).toBe("A=plain value\nB=\" padded \"\nC=\"'quoted'\"");
    expect(parseEnvBundle(text)).toEqual({ ok: true, vars: { A: "plain value", B: " padded ", C: "'quoted'" } });
  });
});
