import path from "node:path";
import { defineConfig } from "prisma/config";

// Offline: even `prisma generate` (pure WASM) checks for the native schema engine, which cannot be
// downloaded here. Point the CLI at a stub; migrations run through scripts/db/migrate.mjs instead.
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= path.resolve("scripts/db/no-schema-engine.sh");

const url = process.env.DATABASE_URL ?? "file:./data/talon.db";
export default defineConfig({
  schema: url.startsWith("file:") ? "prisma/sqlite/schema.prisma" : "prisma/postgres/schema.prisma",
  datasource: { url },
});
