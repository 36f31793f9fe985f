import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PASSPHRASE_GUESSES_PER_WINDOW } from "../../server/shares/access";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { NO_RATE_LIMITS } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";
import { clearOfCounterEdges } from "../helpers/windows";

/**
 * A share's passphrase can be guessed at most 5 times wrong per 15 minutes, on every instance (one
 * counter row per share, changed by one atomic upsert); after that every guess — the right one too —
 * is 429 with Retry-After until the window ends. HEAD on a share link tells whether the link is live
 * and nothing else: it never verifies a passphrase, never uses a read and writes no audit event.
 */
let server: TestServer;
let owner: ReturnType<typeof client>;
let secretId: string;
const anon = () => client(server.url);
const PASS = "correct horse battery";
const WRONG = "wrong horse battery";
const inDays = (d: number) => new Date(Date.now() + d * 86_400_000).toISOString();

async function passphraseShare(extra: Record<string, unknown> = {}) {
  const res = await owner.post(`/v1/secrets/${secretId}/share`, { recipient_type: "anyone_with_link", expires_at: inDays(1), passphrase: PASS, ...extra });
  if (res.status !== 201) throw new Error(`share failed: ${res.status} ${res.text}`);
  return res.body.id as string;
}
const read = (id: string, passphrase?: string) => anon().get(`/v1/share/${id}`, passphrase === undefined ? {} : { "X-Share-Passphrase": passphrase });
const head = (id: string, passphrase?: string) => anon().call("HEAD", `/v1/share/${id}`, undefined, passphrase === undefined ? {} : { "X-Share-Passphrase": passphrase });

beforeAll(async () => {
  server = await startTestServer({ env: NO_RATE_LIMITS });
  const acct = await signUpVerified(server);
  await server.rt.db.org.update({ where: { id: acct.orgId }, data: { tier: "enterprise" } });
  owner = client(server.url, acct.token);
  const vault = (await owner.post("/v1/vaults", { name: "guarded" })).body.id;
  secretId = (await owner.put(`/v1/vaults/${vault}/secrets/db/password`, { value: "guarded-value", type: "password" })).body.id;
});
afterAll(async () => {
  await server?.close();
});
beforeEach(async () => {
  await server.rt.db.rateCounter.deleteMany({ where: { key: { startsWith: "share-create:" } } });
  await clearOfCounterEdges();
});

describe("HEAD on a share link", () => {
  it("answers whether the link is live without using a read, checking a passphrase or writing audit; GET then reads", async () => {
    const id = await passphraseShare({ max_access_count: 1 });
    for (const p of [undefined, WRONG, PASS]) {
      const res = await head(id, p);
      expect(res.status).toBe(200);
      expect(res.text).toBe("");
    }
    for (let i = 0; i < PASSPHRASE_GUESSES_PER_WINDOW + 2; i++) expect((await head(id, WRONG)).status).toBe(200);
    expect((await server.rt.db.share.findUnique({ where: { id } }))!.accessCount).toBe(0);
    expect(await server.rt.db.rateCounter.count({ where: { key: `share-passphrase:${id}` } })).toBe(0);
    expect(await server.rt.db.auditEvent.count({ where: { action: "share.access", resourceId: id } })).toBe(0);

    const got = await read(id, PASS);
    expect(got.status).toBe(200);
    expect(got.body.value).toBe("guarded-value");
    expect((await head(id)).status).toBe(410);
    expect((await head(crypto.randomUUID())).status).toBe(404);
  });
});

describe("passphrase guesses", () => {
  it("5 wrong guesses are 403, the 6th is 429 with Retry-After, and so is the right passphrase until the window ends", async () => {
    const id = await passphraseShare();
    for (let i = 0; i < PASSPHRASE_GUESSES_PER_WINDOW; i++) expect((await read(id, WRONG)).status, `guess ${i + 1}`).toBe(403);
    const sixth = await read(id, WRONG);
    expect(sixth.status).toBe(429);
    const retryAfter = Number(sixth.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    const right = await read(id, PASS);
    expect(right.status).toBe(429);
    expect(right.text).not.toContain("guarded-value");
    expect((await server.rt.db.share.findUnique({ where: { id } }))!.accessCount).toBe(0);

    // Another share is counted on its own: the limit is per share.
    const other = await passphraseShare();
    expect((await read(other, PASS)).body.value).toBe("guarded-value");

    // Once the window has passed (its counter row aged by 15 minutes), the right passphrase reads.
    await server.rt.db.rateCounter.update({ where: { key: `share-passphrase:${id}` }, data: { windowStart: { decrement: BigInt(15 * 60_000) } } });
    expect((await read(id, PASS)).body.value).toBe("guarded-value");
  });

  it("right guesses do not count against the limit: 4 wrong, right, 1 wrong are all answered; the next wrong is 429", async () => {
    const id = await passphraseShare({ max_access_count: 0 });
    for (let i = 0; i < 4; i++) expect((await read(id, WRONG)).status).toBe(403);
    expect((await read(id, PASS)).status).toBe(200);
    expect((await read(id, WRONG)).status).toBe(403);
    expect((await read(id, WRONG)).status).toBe(429);
  });

  it("concurrent wrong guesses: exactly 5 are checked (403), the rest 429", async () => {
    const id = await passphraseShare();
    const statuses = (await Promise.all(Array.from({ length: 12 }, () => read(id, WRONG)))).map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 403)).toHaveLength(PASSPHRASE_GUESSES_PER_WINDOW);
    expect(statuses.filter((s) => s === 429)).toHaveLength(12 - PASSPHRASE_GUESSES_PER_WINDOW);
  });

  it("a missing passphrase is 401 and not counted as a guess", async () => {
    const id = await passphraseShare();
    for (let i = 0; i < PASSPHRASE_GUESSES_PER_WINDOW + 2; i++) expect((await read(id)).status).toBe(401);
    expect((await read(id, PASS)).status).toBe(200);
  });
});
