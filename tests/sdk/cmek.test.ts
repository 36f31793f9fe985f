import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, test } from "vitest";
import { cmekKeyFileText, createClient, encryptCmekValue, importCmekKey, type TalonClient } from "../../lib/sdk";
import { signUpVerified } from "../helpers/accounts";
import { startTestServer, type TestServer } from "../helpers/server";

/** The SDK encrypts before a CMEK write and decrypts after a read, locally; without the key it hands back the blob. */
let server: TestServer;
let sdk: TalonClient;

beforeAll(async () => {
  server = await startTestServer();
  const owner = await signUpVerified(server);
  sdk = createClient({ baseUrl: server.url, token: owner.token });
});
afterAll(async () => {
  await server?.close();
});

test("set/get with cmekKey round-trips; without it the blob comes back; a wrong key is a cmek_error", async () => {
  const raw = randomBytes(32);
  const key = await importCmekKey(raw);
  const vault = await sdk.vaults.create({ name: "sdk-cmek" });
  const vaultId = vault.data!.id;
  expect((await sdk.cmek.enable(vaultId, key.fingerprint)).data?.cmek_enabled).toBe(true);

  // Without the key the server refuses the plaintext (positive control for the encrypting path below).
  expect((await sdk.secrets.set(vaultId, "db/password", "hunter2")).error?.type).toBe("bad_request");
  const written = await sdk.secrets.set(vaultId, "db/password", "hunter2", { cmekKey: cmekKeyFileText(raw), type: "password" });
  expect(written.error).toBeNull();
  expect(written.data?.cmek_encrypted).toBe(true);

  const blob = await sdk.secrets.get(vaultId, "db/password");
  expect(blob.data).toMatchObject({ cmek_encrypted: true });
  expect(blob.data?.value).not.toContain("hunter2");
  expect((await sdk.secrets.get(vaultId, "db/password", { cmekKey: raw })).data?.value).toBe("hunter2");
  expect((await sdk.secrets.getVersion(vaultId, "db/password", 1, { cmekKey: key })).data?.value).toBe("hunter2");

  const wrong = await sdk.secrets.get(vaultId, "db/password", { cmekKey: randomBytes(32) });
  expect(wrong.error).toMatchObject({ type: "cmek_error", detail: expect.stringMatching(/another customer key/) });
  expect(wrong.data).toBeNull();
  const badFile = await sdk.secrets.set(vaultId, "x", "v", { cmekKey: "not a key" });
  expect(badFile.error).toMatchObject({ type: "cmek_error", detail: "cmekKey must be the base64 of a 32-byte key" });

  // Rotation through the SDK, then reads need the new key.
  const nextRaw = randomBytes(32);
  const next = await importCmekKey(nextRaw);
  const job = await sdk.cmek.rotate(vaultId, raw, nextRaw, next.fingerprint);
  expect(job.meta.status).toBe(202);
  let status = job.data!.status;
  for (let i = 0; i < 200 && status === "running"; i++) {
    await new Promise((r) => setTimeout(r, 50));
    status = (await sdk.cmek.job(vaultId, job.data!.id)).data!.status;
  }
  expect(status).toBe("completed");
  expect((await sdk.secrets.get(vaultId, "db/password", { cmekKey: nextRaw })).data?.value).toBe("hunter2");
  expect((await sdk.secrets.get(vaultId, "db/password", { cmekKey: raw })).error?.type).toBe("cmek_error");
  // rotate() keeps type and metadata and encrypts the new value with the key.
  expect((await sdk.secrets.rotate(vaultId, "db/password", "hunter3", { cmekKey: nextRaw })).data?.type).toBe("password");
  expect((await sdk.secrets.get(vaultId, "db/password", { cmekKey: nextRaw })).data?.value).toBe("hunter3");
});

test("enable on a vault with values: the caller reads and encrypts each version and sends them with the fingerprint", async () => {
  const raw = randomBytes(32);
  const key = await importCmekKey(raw);
  const vaultId = (await sdk.vaults.create({ name: "sdk-cmek-existing" })).data!.id;
  for (const v of ["first", "second"]) expect((await sdk.secrets.set(vaultId, "app/token", v)).error).toBeNull();
  // Without versions the server cannot encrypt what is there (positive control for the call below).
  expect((await sdk.cmek.enable(vaultId, key.fingerprint)).error?.type).toBe("conflict");
  const versions = [];
  for (const version of [1, 2]) {
    const plain = (await sdk.secrets.getVersion(vaultId, "app/token", version)).data!.value;
    versions.push({ path: "app/token", version, blob: await encryptCmekValue(key, { vaultId, path: "app/token" }, plain) });
  }
  expect((await sdk.cmek.enable(vaultId, key.fingerprint, versions)).data?.cmek_enabled).toBe(true);
  expect((await sdk.secrets.getVersion(vaultId, "app/token", 1, { cmekKey: raw })).data?.value).toBe("first");
  expect((await sdk.secrets.get(vaultId, "app/token", { cmekKey: raw })).data?.value).toBe("second");
});
