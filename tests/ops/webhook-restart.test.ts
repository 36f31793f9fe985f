import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { outboxTokenFor } from "../helpers/accounts";
import { type ApiProcess, startApiProcess } from "../helpers/api-process";
import { client } from "../helpers/http";
import { createPostgresDatabase, testDialect } from "../helpers/server";
import { startReceiver, verifyTalonSignature, waitFor } from "../helpers/webhook-receiver";

/**
 * At-least-once across a crash: a receiver fails while Talon (a real child process) retries; the
 * process is killed (SIGKILL, no graceful anything); a new process on the same data dir and
 * database delivers the same event (same id, valid signature) once the receiver recovers. Nothing
 * about the pending delivery lived in the first process's memory.
 */
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe("webhook delivery across a restart", () => {
  it("a delivery pending when the process dies is delivered by the next process", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "talon-wh-restart-"));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const env: Record<string, string> = {
      TALON_DATA_DIR: dataDir,
      TALON_WEBHOOK_ALLOW_PRIVATE: "1",
      TALON_WEBHOOK_POLL_MS: "50",
      TALON_WEBHOOK_RETRY_BASE_MS: "200",
      TALON_WEBHOOK_MAX_ATTEMPTS: "20",
      TALON_WEBHOOK_TIMEOUT_MS: "500",
    };
    if (testDialect === "postgres") {
      const db = await createPostgresDatabase();
      cleanups.push(() => db.drop());
      env.DATABASE_URL = db.url;
    }
    let healthy = false;
    const rcv = await startReceiver(() => ({ status: healthy ? 200 : 503 }));
    cleanups.push(() => rcv.close());

    const first: ApiProcess = await startApiProcess(env);
    cleanups.push(() => first.stop("SIGKILL"));
    const api = client(first.url);
    const email = "restart@example.test";
    expect((await api.post("/v1/auth/signup", { email, password: "correct horse battery staple" })).status).toBe(201);
    const verified = await api.post("/v1/auth/verify-email", { token: outboxTokenFor({ dataDir }, email) });
    expect(verified.status).toBe(200);
    const owner = api.withToken(verified.body.access_token as string);
    const vault = await owner.post("/v1/vaults", { name: "restart" });
    const hook = await owner.post("/v1/webhooks", { url: rcv.url, events: ["secret.updated"] });
    expect(hook.status).toBe(201);
    expect((await owner.put(`/v1/vaults/${vault.body.id}/secrets/db/password`, { value: "v1" })).status).toBe(201);
    await waitFor("two failed attempts", () => rcv.received.length >= 2);
    await first.stop("SIGKILL");
    const failedAttempts = rcv.received.length;
    const eventId = (JSON.parse(rcv.received[0]!.body) as { events: { id: string }[] }).events[0]!.id;

    healthy = true;
    const second = await startApiProcess(env);
    cleanups.push(() => second.stop());
    await waitFor("delivery by the second process", () => rcv.received.length > failedAttempts && rcv.received.at(-1)!, 30_000);
    const last = rcv.received.at(-1)!;
    const events = (JSON.parse(last.body) as { events: { id: string; type: string }[] }).events;
    expect(events).toEqual([expect.objectContaining({ id: eventId, type: "secret.updated" })]);
    expect(verifyTalonSignature(hook.body.secret as string, last.headers["talon-signature"] as string, last.body)).toBe(true);
    const login = await client(second.url).post("/v1/auth/token", { email, password: "correct horse battery staple" });
    expect(login.status).toBe(200);
    const owner2 = client(second.url, login.body.access_token as string);
    const d = await waitFor("delivered state", async () => {
      const r = await owner2.get(`/v1/webhooks/${hook.body.id}/deliveries`);
      if (r.status !== 200) throw new Error(`deliveries: ${r.status} ${r.text}`);
      return r.body.deliveries?.[0]?.state === "delivered" ? r.body.deliveries : null;
    });
    expect(d).toHaveLength(1);
    // An attempt is recorded after its HTTP call returns, so the one in flight when the process was
    // killed may be uncounted: at least the failure recorded before the kill, plus the delivery.
    expect(d[0].attempts).toBeGreaterThanOrEqual(2);
  }, 120_000);
});
