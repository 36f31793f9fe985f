import { createHash, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUDIT_EXPORT_COLUMNS } from "../../lib/contract/audit";
import { appendAuditRows } from "../../server/audit/chain";
import { csvField } from "../../server/audit/export";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { addAgent, addOrgUser } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * GET /v1/audit/export: owners and admins stream their org's chained events as NDJSON or CSV, with
 * every hashed field, so a receiver that knows only the documented recipe can recompute each hash and
 * each link. Members and agents get 403 (with owner and admin as positive controls); the export is
 * itself an audit event; no secret value is ever in it.
 */
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

type Exported = Record<(typeof AUDIT_EXPORT_COLUMNS)[number], string | number>;

/** The recipe of docs/operations/audit-export.md, written from the document, not from server code. */
function recomputeHash(e: Exported): string {
  const encoded = JSON.stringify([
    1,
    e.id,
    e.org_id,
    Number(e.seq),
    e.action,
    e.actor,
    e.actor_type,
    e.resource_type,
    e.resource_id,
    e.details,
    e.ip_address,
    e.request_id,
    Date.parse(String(e.created_at)),
    e.prev_hash,
  ]);
  return createHash("sha256").update(encoded).digest("hex");
}

/** Each event hashes to its `hash` and links to the one before it (consecutive seqs). */
function expectChainHolds(events: Exported[]) {
  expect(events.length).toBeGreaterThan(0);
  events.forEach((e, i) => {
    expect(recomputeHash(e), `event ${e.seq}`).toBe(e.hash);
    if (i > 0) {
      expect(Number(e.seq)).toBe(Number(events[i - 1]!.seq) + 1);
      expect(e.prev_hash).toBe(events[i - 1]!.hash);
    }
  });
}

/** RFC 4180 rows; then one leading `'` dropped from a cell that has one (the export's formula guard). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(cell);
      cell = "";
    } else if (ch === "\r" && text[i + 1] === "\n") {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
      i++;
    } else cell += ch;
  }
  expect(cell).toBe("");
  expect(row).toEqual([]);
  return rows;
}
const unguard = (cell: string) => (cell.startsWith("'") ? cell.slice(1) : cell);

function csvEvents(text: string): { header: string[]; raw: string[][]; events: Exported[] } {
  const [header, ...raw] = parseCsv(text);
  const events = raw.map((cells) => Object.fromEntries(header!.map((h, i) => [h, unguard(cells[i]!)])) as Exported);
  return { header: header!, raw, events };
}

const ndjsonEvents = (text: string): Exported[] =>
  text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Exported);

async function orgWithSecret() {
  const owner = await signUpVerified(server);
  const api = client(server.url, owner.token);
  const vault = await api.post("/v1/vaults", { name: `export-${randomUUID().slice(0, 8)}` });
  expect(vault.status).toBe(201);
  const canary = `canary-value-${randomUUID()}`;
  expect((await api.put(`/v1/vaults/${vault.body.id}/secrets/db/password`, { value: canary })).status).toBe(201);
  const read = await api.get(`/v1/vaults/${vault.body.id}/secrets/db/password`);
  expect(read.status).toBe(200);
  expect(read.text).toContain(canary);
  return { owner, api, vaultId: vault.body.id as string, canary };
}

describe("who may export", () => {
  it("members and agents get 403; admins and owners export (positive controls); no credentials is 401", async () => {
    const { owner, api } = await orgWithSecret();
    const member = await addOrgUser(server, owner.orgId, "member");
    const admin = await addOrgUser(server, owner.orgId, "admin");
    const agent = await addAgent(server, owner.token);
    for (const caller of [member.api, agent.api]) {
      for (const format of ["ndjson", "csv"]) {
        const res = await caller.get(`/v1/audit/export?format=${format}`);
        expect(res.status).toBe(403);
        expect(res.headers.get("content-type")).toContain("application/problem+json");
      }
    }
    // The agent can still read its own events: the 403 is the export's boundary, not a broken token.
    expect((await agent.api.get("/v1/audit/events")).status).toBe(200);
    for (const caller of [admin.api, api]) {
      const res = await caller.get("/v1/audit/export");
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("application/x-ndjson; charset=utf-8");
    }
    expect((await client(server.url).get("/v1/audit/export")).status).toBe(401);
  });

  it("refuses bad parameters with 400 naming them", async () => {
    const { api } = await orgWithSecret();
    for (const [q, field] of [
      ["format=xml", "format"],
      ["from=yesterday", "from"],
      ["to=2026-13-01T00:00:00Z", "to"],
      ["foo=1", "foo"],
      ["from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "from"],
    ] as const) {
      const res = await api.get(`/v1/audit/export?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.text, q).toContain(field);
    }
    expect((await api.get("/v1/audit/export?format=csv&from=2026-01-01T00:00:00Z")).status).toBe(200);
  });
});

describe("NDJSON", () => {
  it("streams the org's whole chain oldest first, verifiable from the export alone, ending with its own audit.export event", async () => {
    const { owner, api, canary } = await orgWithSecret();
    const other = await orgWithSecret();
    const res = await api.get("/v1/audit/export?format=ndjson");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toMatch(new RegExp(`^attachment; filename="talon-audit-${owner.orgId}-\\d{4}-\\d{2}-\\d{2}\\.ndjson"$`));
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.text).not.toContain(canary);
    expect(res.text).not.toContain(other.canary);
    const events = ndjsonEvents(res.text);
    expect(Object.keys(events[0]!)).toEqual(AUDIT_EXPORT_COLUMNS);
    expect(events.every((e) => e.org_id === owner.orgId)).toBe(true);
    expect(events[0]!.seq).toBe(1);
    expect(events[0]!.prev_hash).toBe("0".repeat(64));
    expectChainHolds(events);
    const stored = await server.rt.db.auditEvent.findMany({ where: { orgId: owner.orgId }, orderBy: { seq: "asc" } });
    expect(events.map((e) => e.id)).toEqual(stored.map((s) => s.id));
    expect(events.map((e) => e.action)).toEqual(expect.arrayContaining(["vault.create", "secret.write", "secret.read"]));
    const last = events.at(-1)!;
    expect(last).toMatchObject({ action: "audit.export", actor: `user:${owner.userId}`, actor_type: "user", resource_type: "org", resource_id: owner.orgId });
    expect(JSON.parse(String(last.details))).toEqual({ format: "ndjson", from: null, to: null });
  });

  it("pages through a chain longer than one page without a gap or a repeat", async () => {
    const { owner, api } = await orgWithSecret();
    const rows = Array.from({ length: 1234 }, (_, i) => ({
      id: randomUUID(),
      orgId: owner.orgId,
      actorId: `user:${owner.userId}`,
      actorType: "user",
      action: "secret.read",
      resourceType: "secret",
      resourceId: randomUUID(),
      details: JSON.stringify({ i }),
      ipAddress: "127.0.0.1",
      requestId: randomUUID(),
      createdAt: new Date(),
    }));
    await server.rt.db.$transaction((tx) => appendAuditRows(tx, rows), { timeout: 60_000 });
    const res = await api.get("/v1/audit/export");
    expect(res.status).toBe(200);
    const events = ndjsonEvents(res.text);
    const head = await server.rt.db.auditEvent.count({ where: { orgId: owner.orgId } });
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: head }, (_, i) => i + 1));
    expectChainHolds(events);
  });
});

describe("CSV", () => {
  it("has a header row, RFC 4180 quoting, formula cells defused with a leading quote, and still verifies", async () => {
    const { owner, api, canary } = await orgWithSecret();
    const tricky = ["=HYPERLINK(\"http://evil.test\",\"x\")", "+1+2", "-3", "@SUM(A1)", "'quoted", "a,b\r\nc"];
    await server.rt.db.$transaction((tx) =>
      appendAuditRows(
        tx,
        tricky.map((resourceId) => ({
          id: randomUUID(),
          orgId: owner.orgId,
          actorId: `user:${owner.userId}`,
          actorType: "user",
          action: "vault.update",
          resourceType: "vault",
          resourceId,
          details: JSON.stringify({ name: resourceId }),
          ipAddress: "127.0.0.1",
          requestId: randomUUID(),
          createdAt: new Date(),
        })),
      ),
    );
    const res = await api.get("/v1/audit/export?format=csv");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8; header=present");
    expect(res.text).not.toContain(canary);
    const { header, raw, events } = csvEvents(res.text);
    expect(header).toEqual(AUDIT_EXPORT_COLUMNS);
    const col = header.indexOf("resource_id");
    const trickyRows = raw.filter((cells) => cells[header.indexOf("action")] === "vault.update");
    // As a spreadsheet would see the cells: none starts with a formula character.
    expect(trickyRows.map((cells) => cells[col])).toEqual(["'=HYPERLINK(\"http://evil.test\",\"x\")", "'+1+2", "'-3", "'@SUM(A1)", "''quoted", "a,b\r\nc"]);
    for (const cells of raw) for (const cell of cells) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    expect(events.filter((e) => e.action === "vault.update").map((e) => e.resource_id)).toEqual(tricky);
    expectChainHolds(events);
    expect(events.at(-1)).toMatchObject({ action: "audit.export", resource_id: owner.orgId });
    expect(JSON.parse(String(events.at(-1)!.details))).toMatchObject({ format: "csv" });
  });

  it("csvField quotes only what needs it and guards formula starts", () => {
    expect(csvField(12)).toBe("12");
    expect(csvField("plain")).toBe("plain");
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField("\tcmd")).toBe("'\tcmd");
    expect(csvField("=1,2")).toBe('"\'=1,2"');
    expect(csvField("a-b")).toBe("a-b");
  });
});

describe("range filter", () => {
  it("from and to bound created_at; the events inside still verify among themselves", async () => {
    const { owner, api, vaultId } = await orgWithSecret();
    await new Promise((r) => setTimeout(r, 20));
    const from = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    for (let i = 0; i < 3; i++) expect((await api.put(`/v1/vaults/${vaultId}/secrets/mid${i}`, { value: "x" })).status).toBe(201);
    await new Promise((r) => setTimeout(r, 20));
    const to = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    expect((await api.put(`/v1/vaults/${vaultId}/secrets/late`, { value: "x" })).status).toBe(201);

    const res = await api.get(`/v1/audit/export?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
    expect(res.status).toBe(200);
    const events = ndjsonEvents(res.text);
    expect(events.map((e) => [e.action, JSON.parse(String(e.details)).path])).toEqual([
      ["secret.write", "mid0"],
      ["secret.write", "mid1"],
      ["secret.write", "mid2"],
    ]);
    for (const e of events) {
      expect(Date.parse(String(e.created_at))).toBeGreaterThanOrEqual(Date.parse(from));
      expect(Date.parse(String(e.created_at))).toBeLessThanOrEqual(Date.parse(to));
    }
    expectChainHolds(events);
    const exported = await server.rt.db.auditEvent.findMany({ where: { orgId: owner.orgId, action: "audit.export" } });
    expect(exported.map((e) => JSON.parse(e.details))).toContainEqual({ format: "ndjson", from, to });

    const before = ndjsonEvents((await api.get(`/v1/audit/export?to=${encodeURIComponent(from)}`)).text);
    expect(before.length).toBeGreaterThan(0);
    expect(before.every((e) => Date.parse(String(e.created_at)) <= Date.parse(from))).toBe(true);
    expect(before.at(-1)!.seq).toBe(Number(events[0]!.seq) - 1);
  });
});
