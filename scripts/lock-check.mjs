#!/usr/bin/env node
// Fails (exit 1, one line per problem) when package-lock.json no longer matches package.json, so that
// `npm ci` — which refuses such a lock — cannot be the first to find out. Offline and fast:
//  1. the lock's root entry declares exactly package.json's dependency sections, spec for spec;
//  2. every optional dependency of every locked package has its own lock entry (other platforms'
//     binaries such as @next/swc-* and @tailwindcss/oxide-*: a lock written where they could not be
//     fetched lacks them, and npm ci on a clean checkout refuses it);
//  3. `npm ls --package-lock-only --all` finds every locked version within its dependents' ranges.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SECTIONS = ["dependencies", "devDependencies", "optionalDependencies", "peerDependencies"];

const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));
const lock = JSON.parse(readFileSync(path.join(ROOT, "package-lock.json"), "utf8"));
const problems = [];

if (lock.lockfileVersion < 2 || !lock.packages?.[""]) problems.push(`package-lock.json has lockfileVersion ${lock.lockfileVersion}: regenerate it with npm 7 or later`);
const root = lock.packages?.[""] ?? {};
for (const section of SECTIONS) {
  const declared = pkg[section] ?? {};
  const locked = root[section] ?? {};
  for (const [name, spec] of Object.entries(declared)) {
    if (!(name in locked)) problems.push(`${section}.${name} (${spec}) is in package.json but not in package-lock.json`);
    else if (locked[name] !== spec) problems.push(`${section}.${name} is ${spec} in package.json but ${locked[name]} in package-lock.json`);
  }
  for (const name of Object.keys(locked)) {
    if (!(name in declared)) problems.push(`${section}.${name} is in package-lock.json but no longer in package.json`);
  }
}

/** Where Node would find `dep` from the package at lock key `from` (walking up the node_modules chain). */
function resolves(from, dep) {
  let base = from;
  for (;;) {
    if (lock.packages[`${base ? `${base}/` : ""}node_modules/${dep}`]) return true;
    if (!base) return false;
    const i = base.lastIndexOf("node_modules/");
    base = i <= 0 ? "" : base.slice(0, i - 1);
  }
}
for (const [key, entry] of Object.entries(lock.packages ?? {})) {
  for (const dep of Object.keys(entry.optionalDependencies ?? {})) {
    if (!resolves(key, dep)) problems.push(`${key || "talon"}: optional dependency ${dep} has no entry in package-lock.json (run npm install on a machine that can fetch it)`);
  }
}

if (problems.length === 0) {
  const ls = spawnSync("npm", ["ls", "--package-lock-only", "--all", "--offline"], { cwd: ROOT, encoding: "utf8" });
  if (ls.status !== 0) {
    const lines = `${ls.stderr}`.split("\n").filter((l) => /missing|invalid|ELSPROBLEMS/.test(l) && !/debug-0\.log/.test(l));
    problems.push(`npm ls --package-lock-only reports problems:${lines.length ? `\n  ${lines.slice(0, 20).join("\n  ")}` : ` exit ${ls.status}`}`);
  }
}

if (problems.length) {
  console.error(`package-lock.json and package.json have drifted apart (run npm install and commit both):\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.error("package-lock.json matches package.json");
