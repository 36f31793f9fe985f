import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createClient, type TalonClient } from "../../lib/sdk";
import { signUpVerified } from "../helpers/accounts";
import { startTestServer, type TestServer } from "../helpers/server";

/** The SDK's recently deleted secrets: listDeleted and restore, over real HTTP. */
let server: TestServer;
let sdk: TalonClient;

beforeAll(async () => {
  server = await startTestServer();
  sdk = createClient({ baseUrl: server.url, token: (await signUpVerified(server)).token });
});
afterAll(async () => server?.close());

describe("SDK: recently deleted", () => {
  test("lists a deleted secret, restores it, and reports a second restore's 409", async () => {
    const vaultId = (await sdk.vaults.create({ name: "sdk-deleted" })).data!.id;
    await sdk.secrets.set(vaultId, "svc/key", "one");
    await sdk.secrets.set(vaultId, "svc/key", "two");
    expect((await sdk.secrets.delete(vaultId, "svc/key")).meta.status).toBe(204);

    const listed = await sdk.secrets.listDeleted(vaultId);
    expect(listed.error).toBeNull();
    expect(listed.data!.secrets).toEqual([expect.objectContaining({ path: "svc/key", version: 2 })]);

    const restored = await sdk.secrets.restore(vaultId, "svc/key");
    expect(restored.data).toMatchObject({ path: "svc/key", version: 2 });
    expect((await sdk.secrets.get(vaultId, "svc/key")).data!.value).toBe("two");

    const again = await sdk.secrets.restore(vaultId, "svc/key");
    expect(again.meta.status).toBe(409);
    expect(again.error).toMatchObject({ type: "conflict" });
    // A bad path never leaves the client.
    expect((await sdk.secrets.restore(vaultId, "../x")).error).not.toBeNull();
  });
});
