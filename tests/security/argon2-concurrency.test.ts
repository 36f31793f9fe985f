import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiError } from "../../server/http/errors";
import { passwordGate, WorkGate } from "../../server/identity/passwords";
import { signUpVerified, uniqueEmail } from "../helpers/accounts";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * Argon2 work is bounded by a small gate inside server/identity/passwords.ts (every caller of
 * hashPassword/verifyPassword passes it): unauthenticated floods of logins, sign-ups, resets or share
 * passphrases cannot occupy the threadpool that token and HSM work need. Excess callers wait briefly,
 * then get 503 with Retry-After.
 */
const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

describe("WorkGate", () => {
  it("runs at most maxActive at once, queues up to maxQueued, refuses the rest at once with 503 + Retry-After", async () => {
    const gate = new WorkGate(2, 3, 5_000);
    const release = deferred();
    let running = 0;
    let peak = 0;
    const job = () =>
      gate.run(async () => {
        running++;
        peak = Math.max(peak, running);
        await release.promise;
        running--;
        return "done";
      });
    const admitted = Array.from({ length: 5 }, job);
    await new Promise((r) => setTimeout(r, 10));
    expect(running).toBe(2);
    expect(gate.queued).toBe(3);

    const refused = await job().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).status).toBe(503);
    expect((refused as ApiError).opts.headers).toMatchObject({ "Retry-After": "1" });

    release.resolve();
    expect(await Promise.all(admitted)).toEqual(["done", "done", "done", "done", "done"]);
    expect(peak).toBe(2);
    expect(gate.queued).toBe(0);
    // Positive control: with the flood gone, the gate admits again.
    expect(await gate.run(async () => "again")).toBe("again");
  });

  it("a waiter that does not get a slot within maxWaitMs is refused (503), and leaves the queue", async () => {
    const gate = new WorkGate(1, 10, 50);
    const release = deferred();
    const holder = gate.run(() => release.promise);
    const started = Date.now();
    const waited = await gate.run(async () => "never").catch((e: unknown) => e);
    expect((waited as ApiError).status).toBe(503);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(gate.queued).toBe(0);
    release.resolve();
    await holder;
    expect(await gate.run(async () => "ok")).toBe("ok");
  });

  it("a failing job frees its slot", async () => {
    const gate = new WorkGate(1, 0, 10);
    await expect(gate.run(() => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await gate.run(async () => "free")).toBe("free");
  });
});

describe("a flood of anonymous password checks over HTTP", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { TALON_LOGIN_MAX_FAILURES_PER_IP_PER_HOUR: "100000" } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("sheds excess with 503 + Retry-After and does not hold up an authenticated secret read", async () => {
    const acct = await signUpVerified(server);
    const owner = client(server.url, acct.token);
    const vault = (await owner.post("/v1/vaults", { name: "flood" })).body.id as string;
    expect((await owner.put(`/v1/vaults/${vault}/secrets/app/key`, { value: "still readable" })).status).toBe(201);
    const api = client(server.url);

    let stormDone = false;
    const storm = Promise.all(Array.from({ length: 100 }, () => api.post("/v1/auth/token", { email: uniqueEmail("flood"), password: "wrong password" }))).finally(() => {
      stormDone = true;
    });
    const readTimes: number[] = [];
    while (!stormDone) {
      const t = performance.now();
      const read = await owner.get(`/v1/vaults/${vault}/secrets/app/key`);
      readTimes.push(performance.now() - t);
      expect(read.status).toBe(200);
      expect(read.body.value).toBe("still readable");
      await new Promise((r) => setTimeout(r, 20));
    }
    const results = await storm;

    const busy = results.filter((r) => r.status === 503);
    expect(busy.length).toBeGreaterThan(0);
    for (const r of busy) expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(results.every((r) => r.status === 401 || r.status === 503)).toBe(true);
    expect(results.filter((r) => r.status === 401).length).toBeGreaterThanOrEqual(passwordGate.maxActive);
    // Bounds loose enough for a shared, loaded CI machine; a starved threadpool stalls reads for many seconds.
    readTimes.sort((x, y) => x - y);
    expect(readTimes.length).toBeGreaterThan(0);
    expect(readTimes[Math.floor(readTimes.length / 2)]!).toBeLessThan(1_000);
    expect(readTimes.at(-1)!).toBeLessThan(8_000);

    // Positive control: the flood over, the right password signs in.
    expect((await api.post("/v1/auth/token", { email: acct.email, password: acct.password })).status).toBe(200);
  }, 60_000);
});
