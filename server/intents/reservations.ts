import { randomUUID } from "node:crypto";
import { formatEther } from "viem";
import type { AgentTransaction } from "../../generated/sqlite/client";
import { ApiError } from "../http/errors";
import type { Ctx } from "../http/principal";

const DAY_MS = 24 * 60 * 60 * 1000;
/** Statuses that no longer hold their value against the daily limit (nothing was, or will be, sent). */
export const RELEASED_STATUSES = ["failed", "simulation_failed"];

export type Reservation = { kind: "new"; row: AgentTransaction } | { kind: "replay"; row: AgentTransaction };

export type ReserveInput = {
  agentId: string;
  chain: string;
  chainId: number;
  to: string;
  valueWei: bigint;
  data: string;
  txType: "legacy" | "eip1559";
  dailyLimitWei: bigint | null;
  dailyLimitEth: string | null;
  guardrails: string;
  idempotencyKey?: string;
  requestHash: string;
};

/**
 * Writes the transaction row before anything is signed, in one locked transaction that also decides
 * the Idempotency-Key and the rolling 24 h limit: PostgreSQL locks the agent's row (FOR UPDATE, so
 * two instances serialise), SQLite's first statement is a write (the database's write lock). Under
 * that lock: a key seen within 24 h answers with its first row (the caller decides 200 or 409); else
 * the sum of the last 24 h's held values plus this one must fit the limit, and the row is inserted
 * as `pending`, holding its value until it fails before reaching the chain.
 */
export async function reserveTransaction(ctx: Ctx, input: ReserveInput): Promise<Reservation> {
  const { db, dialect } = ctx.rt;
  return db.$transaction(async (tx) => {
    if (dialect === "postgres") await tx.$queryRaw`SELECT "id" FROM "Agent" WHERE "id" = ${input.agentId} FOR UPDATE`;
    else await tx.$executeRaw`UPDATE "Agent" SET "id" = "id" WHERE "id" = ${input.agentId}`;
    const since = new Date(Date.now() - DAY_MS);
    if (input.idempotencyKey) {
      const first = await tx.agentTransaction.findFirst({ where: { agentId: input.agentId, idempotencyKey: input.idempotencyKey } });
      if (first && first.createdAt > since) return { kind: "replay", row: first } as const;
      if (first) await tx.agentTransaction.update({ where: { id: first.id }, data: { idempotencyKey: null } });
    }
    if (input.dailyLimitWei !== null) {
      const held = await tx.agentTransaction.findMany({
        where: { agentId: input.agentId, countsToLimit: true, createdAt: { gt: since } },
        select: { valueWei: true },
      });
      const spent = held.reduce((sum, r) => sum + BigInt(r.valueWei), 0n);
      if (spent + input.valueWei > input.dailyLimitWei) {
        throw new GuardrailError(
          "tx_daily_limit_eth",
          `Guardrail tx_daily_limit_eth refuses ${formatEther(input.valueWei)} ETH: ${formatEther(spent)} ETH of the ${input.dailyLimitEth} ETH rolling 24 h limit is already used`,
        );
      }
    }
    const row = await tx.agentTransaction.create({
      data: {
        id: randomUUID(),
        orgId: ctx.principal.orgId,
        agentId: input.agentId,
        chain: input.chain,
        chainId: input.chainId,
        fromAddress: "",
        toAddress: input.to,
        valueWei: input.valueWei.toString(),
        data: input.data,
        txType: input.txType,
        status: "pending",
        guardrails: input.guardrails,
        idempotencyKey: input.idempotencyKey ?? null,
        requestHash: input.requestHash,
        createdBy: ctx.principal.kind === "user" ? `user:${ctx.principal.userId}` : `agent:${ctx.principal.agentId}`,
      },
    });
    return { kind: "new", row } as const;
  });
}

/** A guardrail refusal: 403 naming the rule and its limit. */
export class GuardrailError extends ApiError {
  constructor(
    readonly rule: string,
    detail: string,
  ) {
    super(403, detail);
  }
}
