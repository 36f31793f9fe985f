-- The audit chain's locks and heads in one call (server/audit/repo.ts): takes the advisory lock of each
-- key in `keys`, in their order, then returns the newest chained event of each org in `orgs` (seq and
-- hash NULL for an org without one). VOLATILE, so in READ COMMITTED the head query takes a snapshot of
-- its own after the locks are held: it sees what the previous holder committed, even when the call sits
-- inside a statement that began before the wait. One round trip instead of a lock and a head read per org.
-- Hand-written: functions are not part of schema.prisma. PostgreSQL only.
-- The body is a U& string, \003B for each semicolon: the migrator splits scripts at every semicolon.
CREATE OR REPLACE FUNCTION "talon_audit_lock_heads"("keys" text[], "orgs" text[])
  RETURNS TABLE ("orgId" text, "seq" integer, "hash" text) LANGUAGE plpgsql VOLATILE AS U&'
DECLARE k text\003B
BEGIN
  FOREACH k IN ARRAY "keys" LOOP
    PERFORM pg_advisory_xact_lock(hashtextextended(k, 0))\003B
  END LOOP\003B
  RETURN QUERY
    SELECT o.id, h.seq, h.hash
    FROM unnest("orgs") WITH ORDINALITY AS o(id, n)
    LEFT JOIN LATERAL (
      SELECT e.seq, e.hash FROM "AuditEvent" AS e WHERE e."orgId" = o.id AND e.seq IS NOT NULL ORDER BY e.seq DESC LIMIT 1
    ) AS h ON true
    ORDER BY o.n\003B
END';
