import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/config";
import { startWebhookJobs, type WebhookJobs } from "../../server/webhooks/jobs";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";
import { waitFor } from "../helpers/webhook-receiver";

/**
 * The operator's audit file (TALON_AUDIT_FILE): every committed audit event as an NDJSON line with
 * the export's fields (chain included), rotated by size keeping N files, and never a secret value;
 * the settings are validated at start-up with the variable named.
 */
const dir = mkdtempSync(path.join(tmpdir(), "talon-audit-file-"));
const file = path.join(dir, "audit.ndjson");
let server: TestServer;
let jobs: WebhookJobs;

beforeAll(async () => {
  server = await startTestServer({ env: { TALON_AUDIT_FILE: file, TALON_AUDIT_FILE_MAX_BYTES: "4096", TALON_AUDIT_FILE_KEEP: "2" } });
  jobs = startWebhookJobs(server.rt);
});
afterAll(async () => {
  await jobs?.stop();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const lines = (p: string) => (existsSync(p) ? readFileSync(p, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) : []);

/** Resolves once the files' existence and sizes are the same on two looks 600 ms apart (more than two sink rounds). */
async function filesSettled(paths: string[], ms = 15_000) {
  const look = () => paths.map((p) => (existsSync(p) ? statSync(p, { throwIfNoEntry: false })?.size ?? -1 : -1)).join(",");
  const end = Date.now() + ms;
  let before = look();
  for (;;) {
    await new Promise((r) => setTimeout(r, 600));
    const now = look();
    if (now === before) return;
    if (Date.now() > end) throw new Error("the audit files kept changing");
    before = now;
  }
}

describe("audit file sink", () => {
  it("appends committed events with chain fields, rotates by size keeping N files, never a value", async () => {
    const owner = await signUpVerified(server);
    const api = client(server.url, owner.token);
    const vault = await api.post("/v1/vaults", { name: `f-${randomUUID().slice(0, 8)}` });
    const canary = `canary-${randomUUID()}`;
    expect((await api.put(`/v1/vaults/${vault.body.id}/secrets/x`, { value: canary })).status).toBe(201);
    const written = await waitFor("the write event in the file", () => lines(file).find((l) => l.action === "secret.write"));
    expect(written).toMatchObject({ org_id: owner.orgId, resource_type: "secret" });
    expect(written.hash).toMatch(/^[0-9a-f]{64}$/);
    const exported = (await api.get("/v1/audit/export?format=ndjson")).text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(exported.find((e) => e.id === written.id)).toEqual(written);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    // Enough events to pass 4 KiB a few times: rotation keeps audit.ndjson, .1 and .2 only.
    for (let i = 0; i < 30; i++) expect((await api.get(`/v1/vaults/${vault.body.id}/secrets/x`)).status).toBe(200);
    await waitFor("rotated files", () => existsSync(`${file}.2`));
    await waitFor("all reads written", () => [file, `${file}.1`, `${file}.2`].flatMap(lines).filter((l) => l.action === "secret.read").length >= 8);
    // The sink writes (and rotates: two renames) every 250 ms while events are pending: look once it is quiet.
    await filesSettled([file, `${file}.1`, `${file}.2`]);
    expect(existsSync(`${file}.3`)).toBe(false);
    for (const p of [file, `${file}.1`, `${file}.2`]) {
      expect(statSync(p).size).toBeLessThanOrEqual(4096);
      expect(readFileSync(p, "utf8")).not.toContain(canary);
    }
    // Within one file, an org's events are in chain order.
    const seqs = lines(`${file}.1`).filter((l) => l.org_id === owner.orgId).map((l) => Number(l.seq));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  it("validates the settings with the variable named", () => {
    const base = { TALON_DATA_DIR: dir };
    expect(() => loadConfig({ ...base, TALON_AUDIT_FILE: "relative/audit.ndjson" })).toThrow(/TALON_AUDIT_FILE must be an absolute path/);
    expect(() => loadConfig({ ...base, TALON_AUDIT_FILE: path.join(dir, "missing-dir", "a.ndjson") })).toThrow(/TALON_AUDIT_FILE must be in an existing directory/);
    mkdirSync(path.join(dir, "sub"));
    expect(() => loadConfig({ ...base, TALON_AUDIT_FILE: path.join(dir, "sub") })).toThrow(/TALON_AUDIT_FILE must name a file/);
    expect(() => loadConfig({ ...base, TALON_AUDIT_FILE: file, TALON_AUDIT_FILE_MAX_BYTES: "10" })).toThrow(/TALON_AUDIT_FILE_MAX_BYTES/);
    expect(() => loadConfig({ ...base, TALON_WEBHOOK_ALLOW_PRIVATE: "yes" })).toThrow(/TALON_WEBHOOK_ALLOW_PRIVATE must be 0 or 1/);
    expect(loadConfig({ ...base, TALON_AUDIT_FILE: file }).auditFile).toEqual({ path: file, maxBytes: 100 * 1024 * 1024, keep: 5 });
    expect(loadConfig(base).auditFile).toBeUndefined();
  });
});
