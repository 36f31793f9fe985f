-- An audit batch appended in one statement, when its writer guessed the chain right (server/audit/repo.ts,
-- appendGuessed): takes the advisory lock of each key in `keys`, in their order, then, if every org's
-- newest chained event is the guessed head (`headSeqs`/`headHashes`, NULL for none) and the orgs' active
-- webhooks are the guessed ones (`hookIds`/`hookOrgs`/`hookEvents`), inserts the events, chained by the
-- caller onto those heads, and the webhook deliveries it computed from those hooks, and answers one row
-- of kind 'ok'. Otherwise it writes nothing and answers what it found: a 'head' row per org (seq and hash
-- NULL for none) and a 'hook' row per active webhook, for the caller to chain again. Called outside any
-- transaction block, so the statement commits on its own: the locks are held only while it runs, never
-- across a round trip to the caller. VOLATILE, so in READ COMMITTED the checks take a snapshot of their
-- own after the locks are held (see talon_audit_lock_heads).
-- Hand-written: functions are not part of schema.prisma. PostgreSQL only.
-- The body is a U& string, \003B for each semicolon: the migrator splits scripts at every semicolon
-- (comments included).
CREATE OR REPLACE FUNCTION "talon_audit_append"(
  "keys" text[], "orgs" text[], "headSeqs" integer[], "headHashes" text[],
  "hookIds" text[], "hookOrgs" text[], "hookEvents" text[],
  "ids" text[], "orgIds" text[], "actions" text[], "actorIds" text[], "actorTypes" text[], "resourceTypes" text[], "resourceIds" text[],
  "details" text[], "ipAddresses" text[], "requestIds" text[], "createdAts" timestamp(3)[], "seqs" integer[], "prevHashes" text[], "hashes" text[],
  "deliveryIds" text[], "deliveryHooks" text[], "deliveryEvents" text[], "deliveryTypes" text[], "deliveryPayloads" text[], "deliveryAt" timestamp(3)[]
) RETURNS TABLE ("kind" text, "orgId" text, "seq" integer, "hash" text, "id" text, "events" text) LANGUAGE plpgsql VOLATILE AS U&'
DECLARE k text\003B
BEGIN
  FOREACH k IN ARRAY "keys" LOOP
    PERFORM pg_advisory_xact_lock(hashtextextended(k, 0))\003B
  END LOOP\003B
  IF EXISTS (
       SELECT 1
       FROM unnest("orgs", "headSeqs", "headHashes") AS o(id, seq, hash)
       LEFT JOIN LATERAL (
         SELECT e.seq, e.hash FROM "AuditEvent" AS e WHERE e."orgId" = o.id AND e.seq IS NOT NULL ORDER BY e.seq DESC LIMIT 1
       ) AS h ON true
       WHERE h.seq IS DISTINCT FROM o.seq OR h.hash IS DISTINCT FROM o.hash
     ) OR EXISTS (
       (SELECT w.id, w."orgId", w.events FROM "Webhook" AS w WHERE w."orgId" = ANY("orgs") AND w."isActive" = true
        EXCEPT SELECT * FROM unnest("hookIds", "hookOrgs", "hookEvents"))
       UNION ALL
       (SELECT * FROM unnest("hookIds", "hookOrgs", "hookEvents")
        EXCEPT SELECT w.id, w."orgId", w.events FROM "Webhook" AS w WHERE w."orgId" = ANY("orgs") AND w."isActive" = true)
     ) THEN
    RETURN QUERY
      SELECT ''head'', o.id, h.seq, h.hash, NULL::text, NULL::text
      FROM unnest("orgs") AS o(id)
      LEFT JOIN LATERAL (
        SELECT e.seq, e.hash FROM "AuditEvent" AS e WHERE e."orgId" = o.id AND e.seq IS NOT NULL ORDER BY e.seq DESC LIMIT 1
      ) AS h ON true
      UNION ALL
      SELECT ''hook'', w."orgId", NULL::integer, NULL::text, w.id, w.events
      FROM "Webhook" AS w WHERE w."orgId" = ANY("orgs") AND w."isActive" = true\003B
    RETURN\003B
  END IF\003B
  INSERT INTO "AuditEvent" (id, "orgId", action, "actorId", "actorType", "resourceType", "resourceId", details, "ipAddress", "requestId", "createdAt", seq, "prevHash", hash)
    SELECT * FROM unnest("ids", "orgIds", "actions", "actorIds", "actorTypes", "resourceTypes", "resourceIds",
                         "details", "ipAddresses", "requestIds", "createdAts", "seqs", "prevHashes", "hashes")\003B
  INSERT INTO "WebhookDelivery" (id, "webhookId", "eventId", "eventType", payload, attempts, "nextAttemptAt", "createdAt")
    SELECT d.id, d.hook, d.event, d.type, d.payload, 0, d.at, d.at
    FROM unnest("deliveryIds", "deliveryHooks", "deliveryEvents", "deliveryTypes", "deliveryPayloads", "deliveryAt") AS d(id, hook, event, type, payload, at)\003B
  RETURN QUERY SELECT ''ok'', NULL::text, NULL::integer, NULL::text, NULL::text, NULL::text\003B
END';
