import { describe, expect, it } from "vitest";
import { invalidates } from "../../server/db/invalidation";

/** Which statements bump the cache generation (server/db/invalidation.ts), in the SQL forms Prisma and our raw SQL use. */
describe("invalidates", () => {
  it.each([
    ["INSERT INTO `main`.`ApiKey` (`id`) VALUES (?)", true],
    ["DELETE FROM `main`.`ApiKey` WHERE (`main`.`ApiKey`.`id` = ?)", true],
    ['UPDATE "public"."Agent" SET "isActive" = $1 WHERE "id" = $2', true],
    ['INSERT INTO "public"."RevokedToken" ("jti") VALUES ($1) ON CONFLICT DO NOTHING', true],
    ["UPDATE `main`.`User` SET `tokenVersion` = ?", true],
    ['DELETE FROM "Policy" WHERE "id" = $1', true],
    ["INSERT INTO IpRule (id) VALUES (1)", true],
    ["DELETE FROM `main`.`Org` WHERE 1", true],
    ['DELETE FROM "public"."Vault" WHERE "id" = $1', true],
    ['WITH gone AS (DELETE FROM "Policy" RETURNING 1) SELECT count(*) FROM gone', true],
    ['TRUNCATE "Agent"', true],
  ])("bumps: %s", (sql, want) => expect(invalidates(sql)).toBe(want));

  it.each([
    ["UPDATE `main`.`Org` SET `tier` = ?", false],
    ['UPDATE "Org" SET "creditBalance" = "creditBalance" - $2 WHERE id = $1', false],
    ["INSERT INTO `main`.`AuditEvent` (`id`) VALUES (?)", false],
    ['UPDATE "SecretVersion" SET "accessCount" = "accessCount" + 1', false],
    ['INSERT INTO "PolicyDraft" (id) VALUES (1)', false],
    ["BEGIN IMMEDIATE", false],
    ["COMMIT", false],
    ['SELECT * FROM "Agent" FOR UPDATE', false],
  ])("leaves alone: %s", (sql, want) => expect(invalidates(sql)).toBe(want));
});
