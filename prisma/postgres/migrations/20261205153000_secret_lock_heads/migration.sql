-- A PostgreSQL secret write batch's first statement (server/secrets/repo.ts, lockAndReadForWrite): takes the
-- advisory lock of each path key in `keys` (distinct, in the order of their hashes, so two batches or two
-- instances cannot deadlock on them), then reads, with a snapshot of its own taken after the locks are held
-- (VOLATILE, in READ COMMITTED), the secret at each (`vids`, `paths`) with its current version's type and
-- metadata, and, share-locking each vault row of `vaultIds` until the transaction ends, its CMEK state
-- (server/cmek/state.ts's readCmekState). A row with a "vaultId" and no "path" is a vault's. One round trip
-- instead of the locks and then the reads.
-- Hand-written: functions are not part of schema.prisma. PostgreSQL only.
-- The body is a U& string, \003B for each semicolon: the migrator splits scripts at every semicolon
-- (comments included).
CREATE OR REPLACE FUNCTION "talon_secret_lock_heads"("keys" text[], "vids" text[], "paths" text[], "vaultIds" text[])
  RETURNS TABLE (
    "vaultId" text, "path" text, "id" text, "currentVersion" integer, "deletedAt" timestamp(3), "rotationPolicy" text,
    "type" text, "metadata" text, "cmekEnabled" boolean, "cmekFingerprint" text, "cmekRotationJobId" text
  ) LANGUAGE plpgsql VOLATILE AS U&'
DECLARE h bigint\003B
BEGIN
  FOR h IN SELECT DISTINCT hashtextextended(k, 0) FROM unnest("keys") AS k ORDER BY 1 LOOP
    PERFORM pg_advisory_xact_lock(h)\003B
  END LOOP\003B
  RETURN QUERY
    WITH v AS (
      SELECT vt.id, vt."cmekEnabled", vt."cmekFingerprint", vt."cmekRotationJobId" FROM "Vault" AS vt WHERE vt.id = ANY("vaultIds") FOR SHARE
    )
    SELECT k.vid, k.p, s.id, s."currentVersion", s."deletedAt", s."rotationPolicy", sv.type, sv.metadata,
           NULL::boolean, NULL::text, NULL::text
    FROM unnest("vids", "paths") AS k(vid, p)
    JOIN "Secret" AS s ON s."vaultId" = k.vid AND s.path = k.p
    LEFT JOIN "SecretVersion" AS sv ON sv."secretId" = s.id AND sv.version = s."currentVersion"
    UNION ALL
    SELECT v.id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, v."cmekEnabled", v."cmekFingerprint", v."cmekRotationJobId" FROM v\003B
END';
