-- CreateIndex
CREATE INDEX "Vault_createdBy_createdByType_idx" ON "Vault"("createdBy", "createdByType");
