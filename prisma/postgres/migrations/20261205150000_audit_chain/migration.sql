-- An audit batch chained and appended by the database, inside the caller's transaction (server/audit/repo.ts,
-- StatementAppend, which the secret write batch makes from its write statement): takes the advisory lock of
-- each key in `keys`, in their order, reads the newest chained event of each org in `orgs` (sorted, the
-- order server/audit/chain.ts's chainOnto chains them in), chains each org's events onto it in their given
-- order and inserts them. An event's hash is SHA-256 over its canonical encoding, which the caller sends
-- less its chain fields: `befores` (the text before seq) and `betweens` (between seq and prevHash), every
-- string already escaped, so the database only concatenates an integer and a hex hash. Answers an 'event'
-- row per event (its seq, prevHash and hash, in the given order), which the caller checks against its own
-- hash of each, and a 'hook' row per active webhook of the orgs in `hookOrgs`, for the outbox. So the chain's
-- lock is held from this statement to its transaction's COMMIT, with no round trip to the caller between.
-- VOLATILE, so in READ COMMITTED the head reads take a snapshot of their own after the locks are held.
-- Hand-written: functions are not part of schema.prisma. PostgreSQL only.
-- The body is a U& string, \003B for each semicolon: the migrator splits scripts at every semicolon
-- (comments included).
CREATE OR REPLACE FUNCTION "talon_audit_chain"(
  "keys" text[], "orgs" text[],
  "ids" text[], "orgIds" text[], "actions" text[], "actorIds" text[], "actorTypes" text[], "resourceTypes" text[], "resourceIds" text[],
  "details" text[], "ipAddresses" text[], "requestIds" text[], "createdAts" timestamp(3)[], "befores" text[], "betweens" text[],
  "hookOrgs" text[]
) RETURNS TABLE ("kind" text, "id" text, "orgId" text, "seq" integer, "prevHash" text, "hash" text, "events" text) LANGUAGE plpgsql VOLATILE AS U&'
DECLARE
  k text\003B
  o text\003B
  i integer\003B
  n integer := coalesce(array_length("ids", 1), 0)\003B
  headSeq integer\003B
  headHash text\003B
  seqs integer[] := array_fill(NULL::integer, ARRAY[n])\003B
  prevs text[] := array_fill(NULL::text, ARRAY[n])\003B
  hashes text[] := array_fill(NULL::text, ARRAY[n])\003B
BEGIN
  FOREACH k IN ARRAY "keys" LOOP
    PERFORM pg_advisory_xact_lock(hashtextextended(k, 0))\003B
  END LOOP\003B
  FOREACH o IN ARRAY "orgs" LOOP
    SELECT e.seq, e.hash INTO headSeq, headHash FROM "AuditEvent" AS e WHERE e."orgId" = o AND e.seq IS NOT NULL ORDER BY e.seq DESC LIMIT 1\003B
    IF NOT FOUND THEN
      headSeq := 0\003B
      headHash := NULL\003B
    END IF\003B
    headHash := coalesce(headHash, repeat(''0'', 64))\003B
    FOR i IN 1..n LOOP
      CONTINUE WHEN "orgIds"[i] IS DISTINCT FROM o\003B
      seqs[i] := headSeq + 1\003B
      prevs[i] := headHash\003B
      headHash := encode(sha256(convert_to("befores"[i] || seqs[i]::text || "betweens"[i] || ''"'' || headHash || ''"]'', ''UTF8'')), ''hex'')\003B
      headSeq := seqs[i]\003B
      hashes[i] := headHash\003B
    END LOOP\003B
  END LOOP\003B
  IF n > 0 AND array_position(seqs, NULL) IS NOT NULL THEN
    RAISE EXCEPTION ''talon_audit_chain: an event of an org that is not in orgs''\003B
  END IF\003B
  INSERT INTO "AuditEvent" (id, "orgId", action, "actorId", "actorType", "resourceType", "resourceId", details, "ipAddress", "requestId", "createdAt", seq, "prevHash", hash)
    SELECT * FROM unnest("ids", "orgIds", "actions", "actorIds", "actorTypes", "resourceTypes", "resourceIds",
                         "details", "ipAddresses", "requestIds", "createdAts", seqs, prevs, hashes)\003B
  RETURN QUERY
    SELECT ''event'', u.id, NULL::text, u.seq, u.prev, u.hash, NULL::text
    FROM unnest("ids", seqs, prevs, hashes) AS u(id, seq, prev, hash)
    UNION ALL
    SELECT ''hook'', w.id, w."orgId", NULL::integer, NULL::text, NULL::text, w.events
    FROM "Webhook" AS w WHERE w."orgId" = ANY("hookOrgs") AND w."isActive" = true\003B
END';
