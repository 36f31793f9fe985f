-- AlterTable
ALTER TABLE "Secret" ADD COLUMN "rotationDueAt" DATETIME;
ALTER TABLE "Secret" ADD COLUMN "rotationNotifiedAt" DATETIME;
ALTER TABLE "Secret" ADD COLUMN "rotationPolicy" TEXT;

-- AlterTable
ALTER TABLE "SecretVersion" ADD COLUMN "cmekFingerprint" TEXT;

-- AlterTable
ALTER TABLE "Share" ADD COLUMN "linkTokenHash" TEXT;
ALTER TABLE "Share" ADD COLUMN "recipientEmail" TEXT;

-- AlterTable
ALTER TABLE "Vault" ADD COLUMN "cmekRotationJobId" TEXT;

-- CreateTable
CREATE TABLE "CmekRotationJob" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "orgId" TEXT NOT NULL,
    "vaultId" TEXT NOT NULL,
    "oldFingerprint" TEXT NOT NULL,
    "newFingerprint" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "processed" INTEGER NOT NULL DEFAULT 0,
    "total" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "createdBy" TEXT NOT NULL,
    "startedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" DATETIME,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "X402Payment" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "orgId" TEXT NOT NULL,
    "network" TEXT NOT NULL,
    "asset" TEXT NOT NULL,
    "payer" TEXT NOT NULL,
    "payTo" TEXT NOT NULL,
    "amount" TEXT NOT NULL,
    "nonce" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "txHash" TEXT,
    "resource" TEXT NOT NULL,
    "error" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "settledAt" DATETIME
);

-- CreateTable
CREATE TABLE "Webhook" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "orgId" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "events" TEXT NOT NULL DEFAULT '[]',
    "sealedSecret" BLOB NOT NULL,
    "isActive" BOOLEAN NOT NULL DEFAULT true,
    "description" TEXT NOT NULL DEFAULT '',
    "createdBy" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "WebhookDelivery" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "webhookId" TEXT NOT NULL,
    "eventId" TEXT NOT NULL,
    "eventType" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deliveredAt" DATETIME,
    "lastError" TEXT,
    "lastStatus" INTEGER,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "WebhookDelivery_webhookId_fkey" FOREIGN KEY ("webhookId") REFERENCES "Webhook" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "UsageEvent" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "orgId" TEXT NOT NULL,
    "principalType" TEXT NOT NULL,
    "principalId" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "endpoint" TEXT NOT NULL,
    "statusCode" INTEGER NOT NULL,
    "priceMillicents" BIGINT NOT NULL DEFAULT 0,
    "isPaid" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Agent" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "orgId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "authMethod" TEXT NOT NULL DEFAULT 'api_key',
    "scopes" TEXT NOT NULL DEFAULT '[]',
    "vaultIds" TEXT NOT NULL DEFAULT '[]',
    "isActive" BOOLEAN NOT NULL DEFAULT true,
    "deactivatedReason" TEXT,
    "expiresAt" DATETIME,
    "tokenTtlSeconds" INTEGER,
    "cryptoProxyEnabled" BOOLEAN NOT NULL DEFAULT false,
    "txToAllowlist" TEXT NOT NULL DEFAULT '[]',
    "txMaxValueEth" TEXT,
    "txDailyLimitEth" TEXT,
    "txAllowedChains" TEXT NOT NULL DEFAULT '[]',
    "clientCertFingerprint" TEXT,
    "oidcIssuer" TEXT,
    "oidcClientId" TEXT,
    "sshPublicKey" TEXT NOT NULL DEFAULT '',
    "ecdhPublicKey" TEXT NOT NULL DEFAULT '',
    "keyPrefix" TEXT,
    "keyHash" TEXT,
    "tokenVersion" INTEGER NOT NULL DEFAULT 0,
    "createdBy" TEXT NOT NULL,
    "lastActiveAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "Agent_orgId_fkey" FOREIGN KEY ("orgId") REFERENCES "Org" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_Agent" ("authMethod", "clientCertFingerprint", "createdAt", "createdBy", "cryptoProxyEnabled", "deactivatedReason", "description", "expiresAt", "id", "isActive", "keyHash", "keyPrefix", "lastActiveAt", "name", "oidcClientId", "oidcIssuer", "orgId", "scopes", "sshPublicKey", "tokenTtlSeconds", "tokenVersion", "txAllowedChains", "txDailyLimitEth", "txMaxValueEth", "txToAllowlist", "updatedAt", "vaultIds") SELECT "authMethod", "clientCertFingerprint", "createdAt", "createdBy", "cryptoProxyEnabled", "deactivatedReason", "description", "expiresAt", "id", "isActive", "keyHash", "keyPrefix", "lastActiveAt", "name", "oidcClientId", "oidcIssuer", "orgId", "scopes", "sshPublicKey", "tokenTtlSeconds", "tokenVersion", "txAllowedChains", "txDailyLimitEth", "txMaxValueEth", "txToAllowlist", "updatedAt", "vaultIds" FROM "Agent";
DROP TABLE "Agent";
ALTER TABLE "new_Agent" RENAME TO "Agent";
CREATE UNIQUE INDEX "Agent_keyPrefix_key" ON "Agent"("keyPrefix");
CREATE INDEX "Agent_orgId_idx" ON "Agent"("orgId");
CREATE INDEX "Agent_oidcIssuer_oidcClientId_idx" ON "Agent"("oidcIssuer", "oidcClientId");
CREATE INDEX "Agent_clientCertFingerprint_idx" ON "Agent"("clientCertFingerprint");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "CmekRotationJob_vaultId_startedAt_idx" ON "CmekRotationJob"("vaultId", "startedAt");

-- CreateIndex
CREATE INDEX "X402Payment_orgId_createdAt_idx" ON "X402Payment"("orgId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "X402Payment_network_asset_payer_nonce_key" ON "X402Payment"("network", "asset", "payer", "nonce");

-- CreateIndex
CREATE INDEX "Webhook_orgId_idx" ON "Webhook"("orgId");

-- CreateIndex
CREATE INDEX "WebhookDelivery_deliveredAt_nextAttemptAt_idx" ON "WebhookDelivery"("deliveredAt", "nextAttemptAt");

-- CreateIndex
CREATE UNIQUE INDEX "WebhookDelivery_webhookId_eventId_key" ON "WebhookDelivery"("webhookId", "eventId");

-- CreateIndex
CREATE INDEX "UsageEvent_orgId_createdAt_idx" ON "UsageEvent"("orgId", "createdAt");

-- CreateIndex
CREATE INDEX "Secret_rotationDueAt_idx" ON "Secret"("rotationDueAt");
