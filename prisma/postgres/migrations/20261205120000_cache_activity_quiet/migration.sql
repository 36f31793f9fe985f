-- Cache invalidation (server/db/invalidation.ts, migration 20261204140000_cache_invalidation): an update
-- of an Agent or ApiKey row that changed nothing but its advisory "last used" column (Agent.lastActiveAt,
-- ApiKey.lastUsedAt, written at most once a minute per row by server/identity/activity.ts) no longer
-- notifies talon_cache. No cached decision reads those columns, and each such write used to empty every
-- org's cached principal state and policies on every instance. Any other change still notifies: the
-- update triggers compare whole rows minus that one column, so a column added later notifies too.
-- Inserts, deletes and truncates keep their statement triggers.
-- Hand-written: triggers are not part of schema.prisma. PostgreSQL only.
DROP TRIGGER "talon_cache_Agent" ON "Agent";
CREATE TRIGGER "talon_cache_Agent" AFTER INSERT OR DELETE OR TRUNCATE ON "Agent" FOR EACH STATEMENT EXECUTE FUNCTION "talon_cache_notify"();
CREATE TRIGGER "talon_cache_Agent_update" AFTER UPDATE ON "Agent" FOR EACH ROW
  WHEN ((to_jsonb(OLD) - 'lastActiveAt') IS DISTINCT FROM (to_jsonb(NEW) - 'lastActiveAt')) EXECUTE FUNCTION "talon_cache_notify"();
DROP TRIGGER "talon_cache_ApiKey" ON "ApiKey";
CREATE TRIGGER "talon_cache_ApiKey" AFTER INSERT OR DELETE OR TRUNCATE ON "ApiKey" FOR EACH STATEMENT EXECUTE FUNCTION "talon_cache_notify"();
CREATE TRIGGER "talon_cache_ApiKey_update" AFTER UPDATE ON "ApiKey" FOR EACH ROW
  WHEN ((to_jsonb(OLD) - 'lastUsedAt') IS DISTINCT FROM (to_jsonb(NEW) - 'lastUsedAt')) EXECUTE FUNCTION "talon_cache_notify"();
