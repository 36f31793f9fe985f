import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiError } from "../../server/http/errors";
import type { PublicCtx } from "../../server/http/principal";
import { previewShareLink } from "../../server/shares/preview";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { startTestServer, type TestServer } from "../helpers/server";

/** The share page's GET (`/s/{id}`): who shared what, never the value, no read, no audit. */
let server: TestServer;
let api: ReturnType<typeof client>;
let secretId: string;
let ctx: PublicCtx;
const inDays = (d: number) => new Date(Date.now() + d * 86_400_000).toISOString();

beforeAll(async () => {
  server = await startTestServer();
  const a = await signUpVerified(server, { displayName: "Dana Sharer" });
  api = client(server.url, a.token);
  const vaultId = (await api.post("/v1/vaults", { name: "preview" })).body.id as string;
  secretId = (await api.put(`/v1/vaults/${vaultId}/secrets/deploy/key`, { value: "preview-canary-value" })).body.id as string;
  ctx = { rt: server.rt, requestId: randomUUID(), ip: "127.0.0.1" };
});
afterAll(async () => {
  await server?.close();
});

async function share(body: Record<string, unknown>) {
  const r = await api.post(`/v1/secrets/${secretId}/share`, { recipient_type: "anyone_with_link", expires_at: inDays(1), ...body });
  expect(r.status).toBe(201);
  return r.body as { id: string; share_url: string };
}

const statusOf = (p: Promise<unknown>) => p.then(() => 200, (e: unknown) => (e instanceof ApiError ? e.status : Promise.reject(e)));

describe("share link page preview", () => {
  it("shows path, sharer's display name, expiry and reads left, spending no read and writing no audit", async () => {
    const s = await share({ max_access_count: 2, passphrase: "long enough phrase" });
    expect(s.share_url).toBe(`${server.rt.config.publicUrl}/s/${s.id}`);
    const auditBefore = await server.rt.db.auditEvent.count({ where: { resourceId: s.id } });
    const p = await previewShareLink(ctx, s.id);
    expect(p).toEqual({ targeted: false, id: s.id, path: "deploy/key", sharer_name: "Dana Sharer", expires_at: expect.any(String), reads_left: 2, needs_passphrase: true, needs_token: false });
    expect(JSON.stringify(p)).not.toContain("preview-canary-value");
    await previewShareLink(ctx, s.id);
    expect((await server.rt.db.share.findUniqueOrThrow({ where: { id: s.id } })).accessCount).toBe(0);
    expect(await server.rt.db.auditEvent.count({ where: { resourceId: s.id } })).toBe(auditBefore);
    // Positive control: the API read with the passphrase does spend a read, and the preview says so.
    const read = await client(server.url).get(`/v1/share/${s.id}`, { "X-Share-Passphrase": "long enough phrase" });
    expect(read.status).toBe(200);
    expect((await previewShareLink(ctx, s.id)) as { reads_left: number }).toMatchObject({ reads_left: 1 });
  });

  it("is 410 once used up and 404 once revoked, like HEAD on the API route", async () => {
    const used = await share({ max_access_count: 1 });
    expect((await client(server.url).get(`/v1/share/${used.id}`)).status).toBe(200);
    expect(await statusOf(previewShareLink(ctx, used.id))).toBe(410);
    const revoked = await share({});
    expect(await statusOf(previewShareLink(ctx, revoked.id))).toBe(200);
    expect((await api.delete(`/v1/share/${revoked.id}`)).status).toBe(204);
    expect(await statusOf(previewShareLink(ctx, revoked.id))).toBe(404);
  });
});
