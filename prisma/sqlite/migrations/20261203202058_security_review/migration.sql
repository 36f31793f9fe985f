-- AlterTable
ALTER TABLE "Agent" ADD COLUMN "deactivatedReason" TEXT;

-- AlterTable
ALTER TABLE "Share" ADD COLUMN "endReason" TEXT;
ALTER TABLE "Share" ADD COLUMN "endedAt" DATETIME;
ALTER TABLE "Share" ADD COLUMN "pinnedVersion" INTEGER;

-- CreateTable
CREATE TABLE "AuditCheckpoint" (
    "orgId" TEXT NOT NULL PRIMARY KEY,
    "seq" INTEGER NOT NULL,
    "hash" TEXT NOT NULL,
    "signature" TEXT NOT NULL,
    "keyId" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Vault" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "orgId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "createdBy" TEXT NOT NULL,
    "createdByType" TEXT NOT NULL,
    "wrappedKey" BLOB NOT NULL,
    "masterKeyVersion" INTEGER NOT NULL,
    "cmekEnabled" BOOLEAN NOT NULL DEFAULT false,
    "cmekFingerprint" TEXT,
    "isSystem" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Vault_orgId_fkey" FOREIGN KEY ("orgId") REFERENCES "Org" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_Vault" ("cmekEnabled", "cmekFingerprint", "createdAt", "createdBy", "createdByType", "description", "id", "masterKeyVersion", "name", "orgId", "wrappedKey") SELECT "cmekEnabled", "cmekFingerprint", "createdAt", "createdBy", "createdByType", "description", "id", "masterKeyVersion", "name", "orgId", "wrappedKey" FROM "Vault";
DROP TABLE "Vault";
ALTER TABLE "new_Vault" RENAME TO "Vault";
CREATE UNIQUE INDEX "Vault_orgId_name_key" ON "Vault"("orgId", "name");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "Share_secretId_idx" ON "Share"("secretId");

-- The agent-key vault becomes the org's system vault: no creator (so no creator bypass), never listed.
UPDATE "Vault" SET "isSystem" = 1, "createdBy" = 'system', "createdByType" = 'system' WHERE "name" = '__agent-keys';
