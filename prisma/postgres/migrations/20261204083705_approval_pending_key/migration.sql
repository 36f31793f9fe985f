/*
  Warnings:

  - A unique constraint covering the columns `[pendingKey]` on the table `ApprovalRequest` will be added. If there are existing duplicate values, this will fail.

*/
-- AlterTable
ALTER TABLE "ApprovalRequest" ADD COLUMN     "pendingKey" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "ApprovalRequest_pendingKey_key" ON "ApprovalRequest"("pendingKey");
