import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { outboxTokenFor } from "../helpers/accounts";
import { type ApiProcess, startApiProcess } from "../helpers/api-process";
import { client } from "../helpers/http";
import { createPostgresDatabase, testDialect } from "../helpers/server";

/**
 * A 201 to a PUT is a promise that the version and its audit event are durable. Talon runs as a real
 * child process; many clients PUT at once (a few contended paths, where versions must stay n+1, and
 * fresh paths, which create secrets); the process is killed with SIGKILL while writes are in flight;
 * a new process on the same data dir (HSM token, SQLite file) or PostgreSQL database must then serve
 * every acknowledged write with its value under its version. Writes whose answer never arrived may or
 * may not exist, but whatever exists is whole: each path's versions are gapless from 1, each stored
 * version has exactly one `secret.write` event, and the org's audit chain verifies from its first event.
 */
const CLIENTS = 24;
const HOT_PATHS = 4;
/** Kill once this many writes were acknowledged (and at least STORM_MIN_MS into the storm). */
const ACKS_BEFORE_KILL = 150;
const STORM_MIN_MS = 1_000;

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

type Ack = { path: string; version: number; value: string };

async function eachLimited<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

describe(`kill -9 during a PUT storm (${testDialect})`, () => {
  it("every acknowledged PUT is readable after a restart, and the audit chain holds", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "talon-put-crash-"));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const env: Record<string, string> = {
      TALON_DATA_DIR: dataDir,
      // One client IP and one user drive the storm: the per-IP and per-principal limits would answer 429.
      TALON_RATE_LIMIT_IP_PER_MINUTE: "0",
      TALON_RATE_LIMIT_PRINCIPAL_PER_MINUTE: "0",
    };
    if (testDialect === "postgres") {
      const db = await createPostgresDatabase();
      cleanups.push(() => db.drop());
      env.DATABASE_URL = db.url;
    }

    const first: ApiProcess = await startApiProcess(env);
    cleanups.push(() => first.stop("SIGKILL"));
    const anon = client(first.url);
    const email = "put-crash@example.test";
    expect((await anon.post("/v1/auth/signup", { email, password: "correct horse battery staple" })).status).toBe(201);
    const verified = await anon.post("/v1/auth/verify-email", { token: outboxTokenFor({ dataDir }, email) });
    expect(verified.status).toBe(200);
    const token = verified.body.access_token as string;
    const vault = await client(first.url, token).post("/v1/vaults", { name: "storm" });
    expect(vault.status).toBe(201);
    const base = `/v1/vaults/${vault.body.id as string}`;

    const acks: Ack[] = [];
    const attempted = new Set<string>();
    const refusals: string[] = [];
    let inFlight = 0;
    let killed = false;
    const started = Date.now();
    const killAt = new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if ((acks.length >= ACKS_BEFORE_KILL && Date.now() - started >= STORM_MIN_MS) || Date.now() - started > 60_000) {
          clearInterval(timer);
          resolve();
        }
      }, 5);
    });
    const storm = Array.from({ length: CLIENTS }, async (_, c) => {
      for (let n = 0; !killed; n++) {
        // Half the writes contend on a few paths (version n+1 under a lock), half create fresh secrets.
        const p = n % 2 === 0 ? `hot/p${(c + n) % HOT_PATHS}` : `fresh/c${c}/s${n}`;
        const value = `v-${c}-${n}-${Math.random().toString(36).slice(2)}`;
        attempted.add(p);
        inFlight++;
        try {
          const res = await fetch(`${first.url}${base}/secrets/${p}`, {
            method: "PUT",
            headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
            body: JSON.stringify({ value }),
          });
          const body = (await res.json()) as { version?: number };
          if (res.status === 201) acks.push({ path: p, version: body.version!, value });
          else if (!killed) refusals.push(`${res.status} ${JSON.stringify(body)}`);
        } catch {
          // The connection died with the process: this write's fate is unknown, and the client stops.
          return;
        } finally {
          inFlight--;
        }
      }
    });
    await killAt;
    const inFlightAtKill = inFlight;
    killed = true;
    first.child.kill("SIGKILL");
    await Promise.all(storm);
    await first.stop("SIGKILL");

    expect(refusals).toEqual([]);
    expect(acks.length).toBeGreaterThanOrEqual(ACKS_BEFORE_KILL);
    // The kill landed mid-storm: writes were on their way when the process died.
    expect(inFlightAtKill).toBeGreaterThan(0);
    // A version is acknowledged to one writer only.
    const ackedKeys = acks.map((a) => `${a.path}#${a.version}`);
    expect(new Set(ackedKeys).size).toBe(acks.length);

    const second = await startApiProcess(env);
    cleanups.push(() => second.stop());
    const login = await client(second.url).post("/v1/auth/token", { email, password: "correct horse battery staple" });
    expect(login.status).toBe(200);
    const api = client(second.url, login.body.access_token as string);

    // Every path's stored versions are 1..n exactly; every acknowledged version is among them with its value.
    const stored = new Map<string, number>();
    await eachLimited([...attempted], 8, async (p) => {
      const r = await api.get(`${base}/secret-versions/${p}`);
      if (r.status === 404) return; // a fresh path whose only write was never acknowledged
      expect(r.status, `${p}: ${r.text}`).toBe(200);
      const versions = (r.body.versions as { version: number }[]).map((v) => v.version);
      expect(versions, p).toEqual(Array.from({ length: versions.length }, (_, i) => i + 1));
      stored.set(p, versions.length);
    });
    await eachLimited(acks, 8, async (a) => {
      const r = await api.get(`${base}/secret-version/${a.path}/${a.version}`);
      expect(r.status, `${a.path} v${a.version}: ${r.text}`).toBe(200);
      expect(r.body.value, `${a.path} v${a.version}`).toBe(a.value);
      expect(r.body.version).toBe(a.version);
    });
    for (const p of new Set(acks.map((a) => a.path))) expect(stored.has(p), p).toBe(true);

    // The change and its audit event commit together: one secret.write per stored version, none without one.
    const exported = await api.get("/v1/audit/export?format=ndjson");
    expect(exported.status).toBe(200);
    const writes = exported.text
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { action: string; details: string })
      .filter((e) => e.action === "secret.write")
      .map((e) => JSON.parse(e.details) as { path: string; version: number });
    const audited = writes.map((d) => `${d.path}#${d.version}`);
    expect(new Set(audited).size).toBe(audited.length);
    const storedKeys = [...stored].flatMap(([p, n]) => Array.from({ length: n }, (_, i) => `${p}#${i + 1}`));
    expect(audited.sort()).toEqual(storedKeys.sort());

    const verify = await api.get("/v1/audit/verify?full=true");
    expect(verify.status, verify.text).toBe(200);
    expect(verify.body).toMatchObject({ chain_valid: true, complete: true, broken_at_event_id: null });
  }, 180_000);
});
