import { generateKeyPairSync } from "node:crypto";
import type { Agent } from "../../generated/sqlite/client";
import { agentEcdhKeyPath } from "../access/system-vault";
import type { Ctx } from "../http/principal";
import { log } from "../log";
import { putManagedSecret } from "../secrets/service";
import { systemVault } from "../vaults/service";

/**
 * Each agent's X25519 key pair (the card's `ecdh_public_key`): the public key, raw 32 bytes in
 * standard base64, on the agent record; the private key, PKCS#8 PEM, sealed as a `private_key` secret
 * at `agents/<id>/ecdh` in the org's system vault beside the SSH key, under the same rule (org owners
 * and admins, and the agent itself; never a crypto-proxy agent, which gets no raw keys).
 */
export type EcdhKeyPair = { publicKey: string; privateKey: string };

export function generateEcdhKeyPair(): EcdhKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync("x25519");
  return {
    publicKey: Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url").toString("base64"),
    privateKey: privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
  };
}

/** Seals the private half in the system vault; returns the secret's id (for clean-up if registration fails). */
export async function storeEcdhPrivateKey(ctx: Ctx, agentId: string, privateKey: string): Promise<string> {
  const vault = await systemVault(ctx);
  const { secretId } = await putManagedSecret(ctx, vault, agentEcdhKeyPath(agentId), privateKey, "private_key");
  return secretId;
}

/**
 * Agents registered before the key existed get theirs when first read. The public key is claimed by
 * one conditional UPDATE (`ecdhPublicKey = ''`), so of two concurrent readers exactly one generates
 * the pair that is kept; it then stores the private half, and hands the claim back if that fails.
 */
export async function withEcdhKeys<A extends Pick<Agent, "id" | "ecdhPublicKey">>(ctx: Ctx, agents: A[]): Promise<A[]> {
  const out: A[] = [];
  for (const a of agents) {
    if (a.ecdhPublicKey) {
      out.push(a);
      continue;
    }
    const pair = generateEcdhKeyPair();
    const { count } = await ctx.rt.db.agent.updateMany({ where: { id: a.id, ecdhPublicKey: "" }, data: { ecdhPublicKey: pair.publicKey } });
    if (count === 1) {
      try {
        await storeEcdhPrivateKey(ctx, a.id, pair.privateKey);
      } catch (e) {
        await ctx.rt.db.agent.updateMany({ where: { id: a.id, ecdhPublicKey: pair.publicKey }, data: { ecdhPublicKey: "" } });
        log.warn("could not store an agent's ECDH key", { requestId: ctx.requestId, error: e instanceof Error ? e.name : "unknown" });
        throw e;
      }
      out.push({ ...a, ecdhPublicKey: pair.publicKey });
    } else {
      const row = await ctx.rt.db.agent.findUnique({ where: { id: a.id }, select: { ecdhPublicKey: true } });
      out.push({ ...a, ecdhPublicKey: row?.ecdhPublicKey ?? "" });
    }
  }
  return out;
}
