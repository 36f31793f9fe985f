import { randomUUID } from "node:crypto";
import { getAddress, toHex } from "viem";
import { publicKeyToAddress } from "viem/accounts";
import type { SigningKeyResponse } from "../../lib/contract/transactions";
import type { SigningKey } from "../../generated/sqlite/client";
import { ApiError } from "../http/errors";
import { type Ctx, requireInteractiveUser } from "../http/principal";
import type { Secp256k1Keys } from "../keystore/secp256k1";
import { proxyAgent } from "./access";
import { getChain } from "./chains";

/**
 * HSM-native signing keys: a secp256k1 pair generated inside the PKCS#11 token for one agent. Only
 * a signed-in human creates or destroys one; the agent and its humans may list addresses.
 */
export const hsmPath = (address: string) => `hsm:${address}`;

export function hsmKeys(ctx: Pick<Ctx, "rt">): Secp256k1Keys {
  const keys = ctx.rt.keystore.secp256k1;
  if (!keys) throw new ApiError(422, "HSM signing keys need the pkcs11 keystore (TALON_KEYSTORE=pkcs11); this server uses the local software keystore");
  return keys;
}

function toResponse(k: SigningKey): SigningKeyResponse {
  return { id: k.id, agent_id: k.agentId, chain: k.chain, address: k.address, signing_key_path: hsmPath(k.address), created_at: k.createdAt.toISOString() };
}

export async function createSigningKey(ctx: Ctx, agentId: string, body: { chain: string }): Promise<SigningKeyResponse> {
  requireInteractiveUser(ctx, "Generating a signing key");
  await proxyAgent(ctx, agentId, { requireEnabled: false });
  const chain = getChain(ctx, body.chain);
  const keys = hsmKeys(ctx);
  const { keyRef, publicKey } = await keys.generate();
  const address = getAddress(publicKeyToAddress(toHex(publicKey)));
  let row: SigningKey;
  try {
    row = await ctx.rt.db.signingKey.create({
      data: { id: randomUUID(), orgId: ctx.principal.orgId, agentId, chain: chain.name, address, keyRef, createdBy: ctx.principal.kind === "user" ? ctx.principal.userId : "" },
    });
  } catch (e) {
    await keys.destroy(keyRef);
    throw e;
  }
  await ctx.rt.audit.record(ctx, {
    action: "tx.signing_key.create",
    resourceType: "agent",
    resourceId: agentId,
    details: { chain: chain.name, address, signing_key_id: row.id },
  });
  return toResponse(row);
}

export async function listSigningKeys(ctx: Ctx, agentId: string): Promise<{ signing_keys: SigningKeyResponse[] }> {
  await proxyAgent(ctx, agentId, { requireEnabled: false });
  const rows = await ctx.rt.db.signingKey.findMany({ where: { agentId, orgId: ctx.principal.orgId }, orderBy: { createdAt: "desc" }, take: 1000 });
  return { signing_keys: rows.map(toResponse) };
}

export async function deleteSigningKey(ctx: Ctx, agentId: string, keyId: string): Promise<void> {
  requireInteractiveUser(ctx, "Destroying a signing key");
  await proxyAgent(ctx, agentId, { requireEnabled: false });
  const row = await ctx.rt.db.signingKey.findFirst({ where: { id: keyId, agentId, orgId: ctx.principal.orgId } });
  if (!row) throw ApiError.notFound("Signing key not found");
  // The token first: a row without a key is harmless, a key without a row is an orphan nobody sees.
  await hsmKeys(ctx).destroy(row.keyRef);
  await ctx.rt.db.signingKey.deleteMany({ where: { id: row.id } });
  await ctx.rt.audit.record(ctx, {
    action: "tx.signing_key.destroy",
    resourceType: "agent",
    resourceId: agentId,
    details: { chain: row.chain, address: row.address, signing_key_id: row.id },
  });
}
