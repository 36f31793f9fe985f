-- AlterTable
ALTER TABLE "Agent" ADD COLUMN     "deactivatedReason" TEXT;

-- AlterTable
ALTER TABLE "Share" ADD COLUMN     "endReason" TEXT,
ADD COLUMN     "endedAt" TIMESTAMP(3),
ADD COLUMN     "pinnedVersion" INTEGER;

-- AlterTable
ALTER TABLE "Vault" ADD COLUMN     "isSystem" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "AuditCheckpoint" (
    "orgId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "hash" TEXT NOT NULL,
    "signature" TEXT NOT NULL,
    "keyId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "AuditCheckpoint_pkey" PRIMARY KEY ("orgId")
);

-- CreateIndex
CREATE INDEX "Share_secretId_idx" ON "Share"("secretId");

-- The agent-key vault becomes the org's system vault: no creator (so no creator bypass), never listed.
UPDATE "Vault" SET "isSystem" = true, "createdBy" = 'system', "createdByType" = 'system' WHERE "name" = '__agent-keys';
