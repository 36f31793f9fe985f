-- The audit chain's functions keep one plan per statement for the session instead of planning every call.
-- Their statements take array parameters (unnest, = ANY). PostgreSQL's plan cache compares a generic
-- plan, which assumes ten elements per array, with custom plans, which see the real length (one to a
-- few): the custom plans always look cheaper, so every call planned each statement again (planning was
-- about a fifth of PostgreSQL's time under the two-instance read bench, docs/perf/README.md). A
-- function's SET applies only while the function runs, so Prisma's statements on the same connections
-- keep the default. Their generic plans, read with auto_explain, are the same index lookups (the newest
-- chained event of each org, an org's webhooks). talon_secret_lock_heads keeps the default: its generic
-- plan joins the secrets by hash over a scan of the table while the table is small.
-- Hand-written: functions are not part of schema.prisma. PostgreSQL only. No semicolons in comments: the
-- migrator splits scripts at every one.
ALTER FUNCTION "talon_audit_append"(text[], text[], integer[], text[], text[], text[], text[], text[], text[], text[], text[], text[], text[], text[], text[], text[], text[], timestamp(3)[], integer[], text[], text[], text[], text[], text[], text[], text[], timestamp(3)[])
  SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION "talon_audit_chain"(text[], text[], text[], text[], text[], text[], text[], text[], text[], text[], text[], text[], timestamp(3)[], text[], text[], text[])
  SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION "talon_audit_lock_heads"(text[], text[])
  SET plan_cache_mode = force_generic_plan;
