-- talon_audit_append, chaining the batch itself when the caller's guess of a chain head was wrong
-- (server/audit/repo.ts, appendGuessed). With two instances appending to one org, the other instance has
-- almost always appended since this one last looked: under the two-instance read bench fewer than half the
-- batches went in on the first statement, a third on a second and the rest on a third or in a transaction
-- under the chain lock (docs/perf/README.md). Here a wrong head costs no round trip when the batch carries
-- no webhook deliveries (a delivery's payload names its event's seq and hash, so deliveries made for a
-- wrong chain must be made again by the caller): the database first checks that every event's hash, as the
-- caller made it, is SHA-256 over the event's canonical encoding as the database would concatenate it
-- (`befores` and `betweens` are the caller's encodingAround, so the database only concatenates an integer
-- and a hex hash, as talon_audit_chain does), raising and writing nothing if one is not, then has
-- talon_audit_chain chain and insert the events onto the heads it reads under the same locks (advisory locks
-- taken again in one transaction are held once), and answers an 'event' row per event with its seq,
-- prevHash and hash. A right guess is inserted as sent and answered 'ok'. Webhooks other than
-- the guessed ones, or a wrong head with deliveries, write nothing and answer the heads and active webhooks,
-- as talon_audit_append does. Called outside any transaction block, so the statement commits on its own.
-- talon_audit_append stays for instances not yet upgraded. VOLATILE, so in READ COMMITTED the checks take a
-- snapshot of their own after the locks are held. One plan per statement for the session, as the other
-- chain functions (the generic_plans migration).
-- Hand-written: functions are not part of schema.prisma. PostgreSQL only.
-- The body is a U& string, \003B for each semicolon: the migrator splits scripts at every semicolon
-- (comments included).
CREATE OR REPLACE FUNCTION "talon_audit_record"(
  "keys" text[], "orgs" text[], "headSeqs" integer[], "headHashes" text[],
  "hookIds" text[], "hookOrgs" text[], "hookEvents" text[],
  "ids" text[], "orgIds" text[], "actions" text[], "actorIds" text[], "actorTypes" text[], "resourceTypes" text[], "resourceIds" text[],
  "details" text[], "ipAddresses" text[], "requestIds" text[], "createdAts" timestamp(3)[], "seqs" integer[], "prevHashes" text[], "hashes" text[],
  "deliveryIds" text[], "deliveryHooks" text[], "deliveryEvents" text[], "deliveryTypes" text[], "deliveryPayloads" text[], "deliveryAt" timestamp(3)[],
  "befores" text[], "betweens" text[]
) RETURNS TABLE ("kind" text, "orgId" text, "seq" integer, "prevHash" text, "hash" text, "id" text, "events" text) LANGUAGE plpgsql VOLATILE
SET plan_cache_mode = force_generic_plan AS U&'
DECLARE
  k text\003B
  i integer\003B
  n integer := coalesce(array_length("ids", 1), 0)\003B
  stale boolean\003B
BEGIN
  FOREACH k IN ARRAY "keys" LOOP
    PERFORM pg_advisory_xact_lock(hashtextextended(k, 0))\003B
  END LOOP\003B
  stale := EXISTS (
    SELECT 1
    FROM unnest("orgs", "headSeqs", "headHashes") AS g(id, seq, hash)
    LEFT JOIN LATERAL (
      SELECT e.seq, e.hash FROM "AuditEvent" AS e WHERE e."orgId" = g.id AND e.seq IS NOT NULL ORDER BY e.seq DESC LIMIT 1
    ) AS h ON true
    WHERE h.seq IS DISTINCT FROM g.seq OR h.hash IS DISTINCT FROM g.hash
  )\003B
  IF (stale AND coalesce(array_length("deliveryIds", 1), 0) > 0) OR EXISTS (
       (SELECT w.id, w."orgId", w.events FROM "Webhook" AS w WHERE w."orgId" = ANY("orgs") AND w."isActive" = true
        EXCEPT SELECT * FROM unnest("hookIds", "hookOrgs", "hookEvents"))
       UNION ALL
       (SELECT * FROM unnest("hookIds", "hookOrgs", "hookEvents")
        EXCEPT SELECT w.id, w."orgId", w.events FROM "Webhook" AS w WHERE w."orgId" = ANY("orgs") AND w."isActive" = true)
     ) THEN
    RETURN QUERY
      SELECT ''head'', g.id, h.seq, NULL::text, h.hash, NULL::text, NULL::text
      FROM unnest("orgs") AS g(id)
      LEFT JOIN LATERAL (
        SELECT e.seq, e.hash FROM "AuditEvent" AS e WHERE e."orgId" = g.id AND e.seq IS NOT NULL ORDER BY e.seq DESC LIMIT 1
      ) AS h ON true
      UNION ALL
      SELECT ''hook'', w."orgId", NULL::integer, NULL::text, NULL::text, w.id, w.events
      FROM "Webhook" AS w WHERE w."orgId" = ANY("orgs") AND w."isActive" = true\003B
    RETURN\003B
  END IF\003B
  IF stale THEN
    IF coalesce(array_length("befores", 1), 0) <> n OR coalesce(array_length("betweens", 1), 0) <> n THEN
      RAISE EXCEPTION ''talon_audit_record: every event needs its encoding''\003B
    END IF\003B
    FOR i IN 1..n LOOP
      IF encode(sha256(convert_to("befores"[i] || "seqs"[i]::text || "betweens"[i] || ''"'' || "prevHashes"[i] || ''"]'', ''UTF8'')), ''hex'') IS DISTINCT FROM "hashes"[i] THEN
        RAISE EXCEPTION ''talon_audit_record: an event hash is not the hash of its encoding''\003B
      END IF\003B
    END LOOP\003B
    RETURN QUERY
      SELECT ''event'', NULL::text, c.seq, c."prevHash", c.hash, c.id, NULL::text
      FROM talon_audit_chain("keys", "orgs", "ids", "orgIds", "actions", "actorIds", "actorTypes", "resourceTypes", "resourceIds",
                             "details", "ipAddresses", "requestIds", "createdAts", "befores", "betweens", ARRAY[]::text[]) AS c
      WHERE c.kind = ''event''\003B
    RETURN\003B
  END IF\003B
  INSERT INTO "AuditEvent" (id, "orgId", action, "actorId", "actorType", "resourceType", "resourceId", details, "ipAddress", "requestId", "createdAt", seq, "prevHash", hash)
    SELECT * FROM unnest("ids", "orgIds", "actions", "actorIds", "actorTypes", "resourceTypes", "resourceIds",
                         "details", "ipAddresses", "requestIds", "createdAts", "seqs", "prevHashes", "hashes")\003B
  INSERT INTO "WebhookDelivery" (id, "webhookId", "eventId", "eventType", payload, attempts, "nextAttemptAt", "createdAt")
    SELECT d.id, d.hook, d.event, d.type, d.payload, 0, d.at, d.at
    FROM unnest("deliveryIds", "deliveryHooks", "deliveryEvents", "deliveryTypes", "deliveryPayloads", "deliveryAt") AS d(id, hook, event, type, payload, at)\003B
  RETURN QUERY SELECT ''ok'', NULL::text, NULL::integer, NULL::text, NULL::text, NULL::text, NULL::text\003B
END';
