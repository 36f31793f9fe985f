-- Cache invalidation across Talon instances (server/db/invalidation.ts): every statement that
-- changes a table the principal, policy or IP-rule lookups read notifies channel talon_cache. NOTIFY is
-- delivered at commit (not at all on rollback), and identical notifications of one transaction are
-- sent once. Rows deleted by a cascade (Org, User, Vault) fire the triggers of their own tables.
-- Hand-written: triggers are not part of schema.prisma. PostgreSQL only.
-- The body is a U& string, \003B for each semicolon: the migrator splits scripts at every semicolon.
CREATE OR REPLACE FUNCTION "talon_cache_notify"() RETURNS trigger LANGUAGE plpgsql AS U&'BEGIN PERFORM pg_notify(''talon_cache'', '''')\003B RETURN NULL\003B END';

CREATE TRIGGER "talon_cache_Agent" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "Agent" FOR EACH STATEMENT EXECUTE FUNCTION "talon_cache_notify"();
CREATE TRIGGER "talon_cache_User" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "User" FOR EACH STATEMENT EXECUTE FUNCTION "talon_cache_notify"();
CREATE TRIGGER "talon_cache_ApiKey" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "ApiKey" FOR EACH STATEMENT EXECUTE FUNCTION "talon_cache_notify"();
CREATE TRIGGER "talon_cache_RevokedToken" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "RevokedToken" FOR EACH STATEMENT EXECUTE FUNCTION "talon_cache_notify"();
CREATE TRIGGER "talon_cache_Policy" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "Policy" FOR EACH STATEMENT EXECUTE FUNCTION "talon_cache_notify"();
CREATE TRIGGER "talon_cache_IpRule" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "IpRule" FOR EACH STATEMENT EXECUTE FUNCTION "talon_cache_notify"();
