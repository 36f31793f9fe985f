-- CreateTable
CREATE TABLE "SigningKey" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "orgId" TEXT NOT NULL,
    "agentId" TEXT NOT NULL,
    "chain" TEXT NOT NULL,
    "address" TEXT NOT NULL,
    "keyRef" TEXT NOT NULL,
    "createdBy" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "SigningKey_agentId_fkey" FOREIGN KEY ("agentId") REFERENCES "Agent" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "AgentTransaction" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "orgId" TEXT NOT NULL,
    "agentId" TEXT NOT NULL,
    "chain" TEXT NOT NULL,
    "chainId" INTEGER NOT NULL,
    "fromAddress" TEXT NOT NULL,
    "toAddress" TEXT NOT NULL,
    "valueWei" TEXT NOT NULL,
    "data" TEXT NOT NULL DEFAULT '0x',
    "nonce" INTEGER,
    "txType" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "countsToLimit" BOOLEAN NOT NULL DEFAULT true,
    "txHash" TEXT,
    "signedTx" TEXT,
    "errorMessage" TEXT,
    "simulationStatus" TEXT,
    "guardrails" TEXT NOT NULL DEFAULT '[]',
    "idempotencyKey" TEXT,
    "requestHash" TEXT,
    "createdBy" TEXT NOT NULL,
    "signedAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "AgentTransaction_agentId_fkey" FOREIGN KEY ("agentId") REFERENCES "Agent" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "NonceCursor" (
    "chainId" INTEGER NOT NULL,
    "address" TEXT NOT NULL,
    "next" INTEGER NOT NULL,
    "released" TEXT NOT NULL DEFAULT '[]',
    "updatedAt" DATETIME NOT NULL,

    PRIMARY KEY ("chainId", "address")
);

-- CreateIndex
CREATE UNIQUE INDEX "SigningKey_keyRef_key" ON "SigningKey"("keyRef");

-- CreateIndex
CREATE INDEX "SigningKey_orgId_idx" ON "SigningKey"("orgId");

-- CreateIndex
CREATE UNIQUE INDEX "SigningKey_agentId_chain_address_key" ON "SigningKey"("agentId", "chain", "address");

-- CreateIndex
CREATE INDEX "AgentTransaction_agentId_createdAt_idx" ON "AgentTransaction"("agentId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "AgentTransaction_agentId_idempotencyKey_key" ON "AgentTransaction"("agentId", "idempotencyKey");
