import type { Ctx } from "../http/principal";

/**
 * Nonces Talon hands out per (chain, address), under a lock: PostgreSQL locks the cursor row (so two
 * instances on one database serialise), SQLite's first statement is a write, which takes the
 * database's write lock for the transaction. The next nonce is never below the chain's pending count
 * (the chain is the truth when something else sent from the address); a nonce given back by a
 * failed broadcast is handed out again before any new one, so a failure leaves no permanent gap.
 */
export async function reserveNonce(ctx: Pick<Ctx, "rt">, chainId: number, address: string, pendingCount: number): Promise<number> {
  const { db, dialect } = ctx.rt;
  return db.$transaction(async (tx) => {
    if (dialect === "postgres") {
      await tx.$executeRaw`INSERT INTO "NonceCursor" ("chainId", "address", "next", "released", "updatedAt") VALUES (${chainId}, ${address}, 0, '[]', NOW()) ON CONFLICT DO NOTHING`;
      await tx.$queryRaw`SELECT "next" FROM "NonceCursor" WHERE "chainId" = ${chainId} AND "address" = ${address} FOR UPDATE`;
    }
    const cur = await tx.nonceCursor.upsert({
      where: { chainId_address: { chainId, address } },
      create: { chainId, address, next: 0 },
      update: { updatedAt: new Date() },
    });
    const released = (JSON.parse(cur.released) as number[]).filter((n) => n >= pendingCount).sort((a, b) => a - b);
    let nonce: number;
    let next = Math.max(cur.next, pendingCount);
    if (released.length && released[0]! < next) {
      nonce = released.shift()!;
    } else {
      nonce = next;
      next += 1;
    }
    await tx.nonceCursor.update({ where: { chainId_address: { chainId, address } }, data: { next, released: JSON.stringify(released) } });
    return nonce;
  });
}

/** A nonce whose transaction never reached the chain: the last one rewinds the cursor, others are kept for reuse. */
export async function releaseNonce(ctx: Pick<Ctx, "rt">, chainId: number, address: string, nonce: number): Promise<void> {
  const { db, dialect } = ctx.rt;
  await db.$transaction(async (tx) => {
    if (dialect === "postgres") await tx.$queryRaw`SELECT "next" FROM "NonceCursor" WHERE "chainId" = ${chainId} AND "address" = ${address} FOR UPDATE`;
    // No cursor: Talon never reserved a nonce for this address (the caller chose it), nothing to give back.
    const cur = await tx.nonceCursor.findUnique({ where: { chainId_address: { chainId, address } } });
    if (!cur) return;
    const released = new Set(JSON.parse(cur.released) as number[]);
    if (cur.next === nonce + 1) {
      let next = nonce;
      while (released.has(next - 1)) released.delete(--next);
      await tx.nonceCursor.update({ where: { chainId_address: { chainId, address } }, data: { next, released: JSON.stringify([...released]) } });
    } else if (nonce < cur.next) {
      released.add(nonce);
      await tx.nonceCursor.update({ where: { chainId_address: { chainId, address } }, data: { released: JSON.stringify([...released].sort((a, b) => a - b)) } });
    }
  });
}
