import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createClient, type TalonClient } from "../../lib/sdk";
import { signUpVerified } from "../helpers/accounts";
import { startTestServer, type TestServer } from "../helpers/server";

let server: TestServer;
let sdk: TalonClient;
let vaultId: string;
let secretId: string;
const inADay = () => new Date(Date.now() + 86_400_000).toISOString();

beforeAll(async () => {
  server = await startTestServer({ env: { TALON_BILLING: "on" } });
  const owner = await signUpVerified(server);
  sdk = createClient({ baseUrl: server.url, token: owner.token });
  vaultId = (await sdk.vaults.create({ name: "share-vault" })).data!.id;
  secretId = (await sdk.secrets.set(vaultId, "shared/token", "shared-value-1")).data!.id;
});
afterAll(async () => server?.close());

describe("SDK: sharing", () => {
  test("a link share with a passphrase: create, access without credentials, listOutbound, revoke", async () => {
    const created = await sdk.sharing.create(secretId, { recipient_type: "anyone_with_link", expires_at: inADay(), max_access_count: 3, passphrase: "correct horse" });
    expect(created.meta.status).toBe(201);
    expect(created.data).toMatchObject({ recipient_type: "anyone_with_link", max_access_count: 3 });
    const shareId = created.data!.id;

    const anonymous = createClient({ baseUrl: server.url });
    const read = await anonymous.sharing.access(shareId, { passphrase: "correct horse" });
    expect(read.data).toMatchObject({ path: "shared/token", value: "shared-value-1", access_count: 1 });
    const wrong = await anonymous.sharing.access(shareId, { passphrase: "wrong horse!" });
    expect(wrong.data).toBeNull();
    expect(wrong.meta.status).toBeGreaterThanOrEqual(400);

    expect((await sdk.sharing.listOutbound()).data?.shares.map((s) => s.id)).toContain(shareId);
    expect((await sdk.sharing.revoke(shareId)).meta.status).toBe(204);
    expect((await anonymous.sharing.access(shareId, { passphrase: "correct horse" })).meta.status).toBe(404);
  });

  test("an agent share: listInbound, accept, access with the agent's own credentials; decline", async () => {
    const agent = (await sdk.agents.create({ name: "share-recipient" })).data!;
    const asAgent = createClient({ baseUrl: server.url, agentId: agent.agent.id, apiKey: agent.api_key! });
    const [a, b] = await Promise.all(
      [1, 2].map(async () => (await sdk.sharing.create(secretId, { recipient_type: "agent", recipient_id: agent.agent.id, expires_at: inADay() })).data!.id),
    );
    expect((await asAgent.sharing.listInbound()).data?.shares.map((s) => s.id).sort()).toEqual([a, b].sort());
    expect((await asAgent.sharing.accept(a!)).meta.status).toBe(204);
    expect((await asAgent.sharing.access(a!)).data?.value).toBe("shared-value-1");
    expect((await asAgent.sharing.decline(b!)).meta.status).toBe(204);
    expect((await asAgent.sharing.access(b!)).data).toBeNull();
  });
});

describe("SDK: audit", () => {
  test("query filters events and verify recomputes the chain", async () => {
    await sdk.secrets.get(vaultId, "shared/token");
    const r = await sdk.audit.query({ action: "secret.read", limit: 5 });
    expect(r.meta.status).toBe(200);
    expect(r.data!.events.length).toBeGreaterThan(0);
    expect(r.data!.events.every((e) => e.action === "secret.read")).toBe(true);
    expect(JSON.stringify(r.data)).not.toContain("shared-value-1");
    expect((await sdk.audit.verify()).data).toMatchObject({ chain_valid: true, broken_at_event_id: null });
    expect((await sdk.audit.query({ limit: 0 })).error?.type).toBe("bad_request");
  });
});

describe("SDK: billing", () => {
  test("subscription, usage, history, credits and the overage method", async () => {
    // The tier a fresh org gets depends on the server's configuration (self-hosted vs. hosted).
    const tier = expect.stringMatching(/^(free|pro|business|enterprise)$/);
    expect((await sdk.billing.subscription()).data).toMatchObject({ tier, usage: { vaults: expect.any(Object) } });
    expect((await sdk.billing.usage()).data).toMatchObject({ tier, period: expect.stringMatching(/^\d{4}-\d{2}$/) });
    expect((await sdk.billing.history(10)).data?.events).toEqual(expect.any(Array));
    expect((await sdk.billing.creditBalance()).data).toMatchObject({ balance_cents: 0 });
    expect((await sdk.billing.creditTransactions()).data?.transactions).toEqual([]);
    expect((await sdk.billing.setOverageMethod("credits")).data).toEqual({ overage_method: "credits" });
    const tooSmall = await sdk.billing.topUp(100);
    expect(tooSmall.error).toMatchObject({ type: "bad_request", fields: [expect.objectContaining({ field: "amount_cents" })] });
  });
});
