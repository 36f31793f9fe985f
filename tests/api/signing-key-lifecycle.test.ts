import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acquireLibrary, findObjects, findTokenSlot, pkcs11js } from "../../server/keystore/pkcs11-library";
import { softHsmModulePath } from "../../server/keystore/softhsm-setup";
import { signUpVerified } from "../helpers/accounts";
import { client } from "../helpers/http";
import { addAgent } from "../helpers/policies";
import { startTestServer, type TestServer } from "../helpers/server";

/**
 * HSM signing keys end with what owns them: destroying one key, deleting its agent, or deleting the
 * organisation (its sole member deleting their account) destroys both key objects in the PKCS#11
 * token, as an auditor with their own session on the token sees (objects found by CKA_ID). Other
 * agents' keys stay. No chain is needed: generating a key never talks to a node.
 */
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
}, 60_000);
afterAll(async () => {
  await server?.close();
});

/** The token objects (private and public halves) with this CKA_ID, through a session of our own. */
function tokenObjects(keyRef: string): { private: number; public: number } {
  const lib = acquireLibrary(softHsmModulePath()!);
  const { p11 } = lib;
  const s = p11.C_OpenSession(findTokenSlot(p11, "talon")!, pkcs11js.CKF_SERIAL_SESSION);
  try {
    const count = (cls: number) => findObjects(p11, s, [{ type: pkcs11js.CKA_CLASS, value: cls }, { type: pkcs11js.CKA_ID, value: Buffer.from(keyRef, "hex") }]).length;
    // Private objects show because PKCS#11 logins are per application: the server's pool logged the token in.
    return { private: count(pkcs11js.CKO_PRIVATE_KEY), public: count(pkcs11js.CKO_PUBLIC_KEY) };
  } finally {
    p11.C_CloseSession(s);
    lib.release();
  }
}

async function keyRefOf(keyId: string): Promise<string> {
  const row = await server.rt.db.signingKey.findUniqueOrThrow({ where: { id: keyId } });
  return row.keyRef;
}

describe("HSM signing keys are destroyed with their owner", () => {
  it("DELETE signing-keys/{id} destroys that key's objects only; agents and other orgs cannot", async () => {
    const human = await signUpVerified(server);
    const owner = client(server.url, human.token);
    const agent = await addAgent(server, human.token, { cryptoProxyEnabled: true });
    const [a, b] = await Promise.all([0, 1].map(() => owner.post(`/v1/agents/${agent.agentId}/signing-keys`, { chain: "localhost" })));
    expect([a!.status, b!.status]).toEqual([201, 201]);
    const refA = await keyRefOf(a!.body.id);
    const refB = await keyRefOf(b!.body.id);
    expect(tokenObjects(refA)).toEqual({ private: 1, public: 1 });
    expect(tokenObjects(refB)).toEqual({ private: 1, public: 1 });

    const stranger = client(server.url, (await signUpVerified(server)).token);
    expect((await stranger.delete(`/v1/agents/${agent.agentId}/signing-keys/${a!.body.id}`)).status).toBe(404);
    expect((await agent.api.delete(`/v1/agents/${agent.agentId}/signing-keys/${a!.body.id}`)).status).toBe(403);
    expect(tokenObjects(refA)).toEqual({ private: 1, public: 1 });

    expect((await owner.delete(`/v1/agents/${agent.agentId}/signing-keys/${a!.body.id}`)).status).toBe(204);
    expect(tokenObjects(refA)).toEqual({ private: 0, public: 0 });
    expect(tokenObjects(refB)).toEqual({ private: 1, public: 1 });
    expect((await owner.delete(`/v1/agents/${agent.agentId}/signing-keys/${a!.body.id}`)).status).toBe(404);
    const listed = await owner.get(`/v1/agents/${agent.agentId}/signing-keys`);
    expect(listed.body.signing_keys.map((k: { id: string }) => k.id)).toEqual([b!.body.id]);
    const audit = await owner.get(`/v1/audit/events?action=tx.signing_key.destroy&resource_id=${agent.agentId}`);
    expect(audit.body.events.map((e: { details: { signing_key_id: string } }) => e.details.signing_key_id)).toEqual([a!.body.id]);
  });

  it("deleting an agent destroys its keys' objects in the token; another agent's key stays", async () => {
    const human = await signUpVerified(server);
    const owner = client(server.url, human.token);
    const doomed = await addAgent(server, human.token, { cryptoProxyEnabled: true });
    const kept = await addAgent(server, human.token, { cryptoProxyEnabled: true });
    const keys = [];
    for (const chain of ["localhost", "base"]) keys.push((await owner.post(`/v1/agents/${doomed.agentId}/signing-keys`, { chain })).body.id as string);
    const keptKey = (await owner.post(`/v1/agents/${kept.agentId}/signing-keys`, { chain: "localhost" })).body.id as string;
    const refs = await Promise.all(keys.map(keyRefOf));
    const keptRef = await keyRefOf(keptKey);
    for (const ref of refs) expect(tokenObjects(ref)).toEqual({ private: 1, public: 1 });

    expect((await owner.delete(`/v1/agents/${doomed.agentId}`)).status).toBe(204);
    for (const ref of refs) expect(tokenObjects(ref)).toEqual({ private: 0, public: 0 });
    expect(await server.rt.db.signingKey.count({ where: { agentId: doomed.agentId } })).toBe(0);
    expect(tokenObjects(keptRef)).toEqual({ private: 1, public: 1 });
    expect(await server.rt.keystore.secp256k1!.publicKey(keptRef)).not.toBeNull();
    const audit = await owner.get(`/v1/audit/events?action=agent.delete&resource_id=${doomed.agentId}`);
    expect(audit.body.events[0].details).toMatchObject({ hsm_signing_keys: 2 });
  });

  it("an agent deletion that is refused (another org's agent) destroys nothing", async () => {
    const human = await signUpVerified(server);
    const owner = client(server.url, human.token);
    const agent = await addAgent(server, human.token, { cryptoProxyEnabled: true });
    const keyId = (await owner.post(`/v1/agents/${agent.agentId}/signing-keys`, { chain: "localhost" })).body.id as string;
    const ref = await keyRefOf(keyId);
    const stranger = client(server.url, (await signUpVerified(server)).token);
    expect((await stranger.delete(`/v1/agents/${agent.agentId}`)).status).toBe(404);
    expect(tokenObjects(ref)).toEqual({ private: 1, public: 1 });
  });

  it("a sole member deleting their account takes the organisation and destroys its agents' keys in the token", async () => {
    const solo = await signUpVerified(server);
    const me = client(server.url, solo.token);
    const agent = await addAgent(server, solo.token, { cryptoProxyEnabled: true });
    const keyId = (await me.post(`/v1/agents/${agent.agentId}/signing-keys`, { chain: "localhost" })).body.id as string;
    const ref = await keyRefOf(keyId);
    // Control: another organisation's key stays.
    const other = await signUpVerified(server);
    const otherAgent = await addAgent(server, other.token, { cryptoProxyEnabled: true });
    const otherRef = await keyRefOf((await client(server.url, other.token).post(`/v1/agents/${otherAgent.agentId}/signing-keys`, { chain: "localhost" })).body.id);
    expect(tokenObjects(ref)).toEqual({ private: 1, public: 1 });

    expect((await me.delete("/v1/auth/me", { confirmation: "DELETE MY ACCOUNT" })).status).toBe(204);
    expect(await server.rt.db.org.count({ where: { id: solo.orgId } })).toBe(0);
    expect(tokenObjects(ref)).toEqual({ private: 0, public: 0 });
    expect(tokenObjects(otherRef)).toEqual({ private: 1, public: 1 });
  });
});
