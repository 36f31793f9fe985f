import { secp256k1 } from "@noble/curves/secp256k1";
import { type Address, getAddress, type Hex, keccak256, recoverAddress, serializeTransaction, type TransactionSerializable, toHex } from "viem";
import { publicKeyToAddress } from "viem/accounts";
import type { Agent } from "../../generated/sqlite/client";
import { Prisma } from "../../generated/sqlite/client";
import { ApiError } from "../http/errors";
import type { Ctx } from "../http/principal";
import { openSigningKeyForSigner } from "../secrets/signing-key-read";
import type { Chain } from "./chains";
import { hsmKeys } from "./signing-keys";

type Signature = { r: Hex; s: Hex; yParity: 0 | 1 };

/**
 * The one place a transaction is signed. Two kinds of key, neither ever returned to anyone:
 * - `hsm:<address>` (or the agent's HSM key for the chain when no path is given): CKM_ECDSA inside
 *   the token on the keccak digest; s normalised to the low half, v found by trying both recovery ids
 *   against the key's address;
 * - a `private_key` secret at `signing_key_path` (default `keys/{chain}-signer`): opened through the
 *   secrets domain (access rules, counts and audit apply), held as bytes only while signing, zeroed.
 */
export type TxSigner = { address: Address; kind: "hsm" | "secret"; signDigest(digest: Hex): Promise<Signature>; dispose(): void };

const N = secp256k1.CURVE.n;
const HALF_N = N >> 1n;
const to32 = (n: bigint) => toHex(n, { size: 32 });

/** Raw r||s from a token → the low-s signature whose recovery id yields `address`. */
export async function finishHsmSignature(raw: Buffer, digest: Hex, address: Address): Promise<Signature> {
  const r = BigInt(`0x${raw.subarray(0, 32).toString("hex")}`);
  let s = BigInt(`0x${raw.subarray(32, 64).toString("hex")}`);
  if (s > HALF_N) s = N - s;
  for (const yParity of [0, 1] as const) {
    const sig = { r: to32(r), s: to32(s), yParity };
    if (getAddress(await recoverAddress({ hash: digest, signature: sig })) === address) return sig;
  }
  throw new Error("The token's signature does not recover to the key's address");
}

export type SignerRequest = { chain: Chain; signingKeyPath?: string; vaultId?: string };

export async function resolveSigner(ctx: Ctx, agent: Agent, req: SignerRequest): Promise<TxSigner> {
  const path = req.signingKeyPath;
  if (path?.startsWith("hsm:") || path === undefined) {
    const hsm = await findHsmKey(ctx, agent, req.chain, path?.slice(4));
    if (hsm) return hsm;
    if (path !== undefined) throw new ApiError(422, `No HSM signing key ${path} for this agent: list them with GET /v1/agents/{id}/signing-keys`);
  }
  return secretSigner(ctx, agent, path ?? `keys/${req.chain.name}-signer`, req.vaultId);
}

async function findHsmKey(ctx: Ctx, agent: Agent, chain: Chain, address: string | undefined): Promise<TxSigner | null> {
  let where: Prisma.SigningKeyWhereInput;
  if (address !== undefined) {
    if (!/^0x[0-9a-fA-F]{40}$/.test(address)) throw ApiError.badRequest("signing_key_path: hsm: must be followed by a 0x address", [{ field: "signing_key_path", message: "hsm: must be followed by a 0x address" }]);
    where = { agentId: agent.id, address: getAddress(address) };
  } else {
    where = { agentId: agent.id, chain: chain.name };
  }
  const row = await ctx.rt.db.signingKey.findFirst({ where, orderBy: { createdAt: "desc" } });
  if (!row) return null;
  const keys = hsmKeys(ctx);
  const keyAddress = row.address as Address;
  return {
    address: keyAddress,
    kind: "hsm",
    async signDigest(digest) {
      return finishHsmSignature(await keys.sign(row.keyRef, Buffer.from(digest.slice(2), "hex")), digest, keyAddress);
    },
    dispose() {},
  };
}

/** The vault holding `path`: the one given, else the org's only vault with a live secret there. */
async function signingVault(ctx: Ctx, agent: Agent, path: string, vaultId: string | undefined): Promise<string> {
  if (vaultId) return vaultId;
  const rows = await ctx.rt.db.secret.findMany({
    where: { path, deletedAt: null, vault: { orgId: agent.orgId } },
    select: { vaultId: true },
    take: 2,
  });
  if (rows.length === 1) return rows[0]!.vaultId;
  if (rows.length > 1) throw ApiError.badRequest(`Several vaults hold ${path}: name one with vault_id`, [{ field: "vault_id", message: "required: several vaults hold signing_key_path" }]);
  throw new ApiError(422, `No signing key at ${path}: store a private_key secret there or generate an HSM key (POST /v1/agents/{id}/signing-keys)`);
}

async function secretSigner(ctx: Ctx, agent: Agent, path: string, vaultId: string | undefined): Promise<TxSigner> {
  const vault = await signingVault(ctx, agent, path, vaultId);
  const key = await openSigningKeyForSigner(ctx, { vaultId: vault, path });
  let address: Address;
  try {
    address = getAddress(publicKeyToAddress(toHex(secp256k1.getPublicKey(key, false))));
  } catch {
    key.fill(0);
    throw new ApiError(422, `The private_key secret at ${path} is not a valid secp256k1 key`);
  }
  return {
    address,
    kind: "secret",
    async signDigest(digest) {
      const sig = secp256k1.sign(digest.slice(2), key, { lowS: true });
      return { r: to32(sig.r), s: to32(sig.s), yParity: sig.recovery as 0 | 1 };
    },
    dispose() {
      key.fill(0);
    },
  };
}

/** Serialises, signs the keccak digest with `signer`, returns the signed raw transaction and its hash. */
export async function signTransaction(signer: TxSigner, tx: TransactionSerializable): Promise<{ signedTx: Hex; hash: Hex }> {
  const digest = keccak256(serializeTransaction(tx));
  const signature = await signer.signDigest(digest);
  // Legacy (EIP-155) serialisation reads v, type 2 reads yParity: give both.
  const signedTx = serializeTransaction(tx, { ...signature, v: BigInt(27 + signature.yParity) });
  return { signedTx, hash: keccak256(signedTx) };
}
