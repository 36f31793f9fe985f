#!/usr/bin/env node
// Writes prisma/postgres/schema.prisma from prisma/sqlite/schema.prisma (only the provider and the
// client output differ), then generates both Prisma clients. Works offline (see prisma.config.ts).
// `--check` only verifies the PostgreSQL schema is up to date (exit 1 if not).
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");
const sqlitePath = path.join(root, "prisma/sqlite/schema.prisma");
const pgPath = path.join(root, "prisma/postgres/schema.prisma");

export function postgresSchemaFrom(sqliteSchema) {
  return sqliteSchema
    .replace('output   = "../../generated/sqlite"', 'output   = "../../generated/postgres"')
    .replace('provider = "sqlite"', 'provider = "postgresql"')
    .replace(/^\/\/ Source of truth[\s\S]*?\n\n/m, "// GENERATED from prisma/sqlite/schema.prisma by scripts/db/generate.mjs. Do not edit.\n\n");
}

const expected = postgresSchemaFrom(readFileSync(sqlitePath, "utf8"));
if (process.argv.includes("--check")) {
  const actual = readFileSync(pgPath, "utf8");
  if (actual !== expected) {
    console.error("prisma/postgres/schema.prisma is stale: run npm run db:generate");
    process.exit(1);
  }
  process.exit(0);
}
writeFileSync(pgPath, expected);
const prisma = path.join(root, "node_modules/prisma/build/index.js");
const run = (url) =>
  execFileSync(process.execPath, [prisma, "generate"], { cwd: root, stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, DATABASE_URL: url } });
run("file:./generate.db");
run("postgresql://generate@localhost/generate");
