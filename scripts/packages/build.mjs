#!/usr/bin/env node
// `npm run packages`: the three npm packages Talon's users install, built from this repo's sources
// (lib/sdk, lib/mcp, cli/, the API app's OpenAPI document) into dist/packages/<name>/, each ready
// for `npm pack`:
//   talon-sdk      ESM bundle of lib/sdk + .d.ts types; no dependencies, no server code
//   talon-mcp      the stdio MCP server (`talon-mcp` bin, ONECLAW_* variables), every dependency bundled
//   talon-openapi  openapi.json and openapi.yaml, linted with redocly
// `--out <dir>` builds elsewhere (the package test builds into a temp dir).
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import * as esbuild from "esbuild";
import { tsImport } from "tsx/esm/api";
import { emitSdkDeclarations } from "./sdk-types.mjs";

const ROOT = path.resolve(import.meta.dirname, "../..");
const { values } = parseArgs({ options: { out: { type: "string" } } });
const OUT = path.resolve(values.out ?? path.join(ROOT, "dist/packages"));
const { version, engines } = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));
const started = Date.now();

const common = {
  version,
  license: "UNLICENSED",
  type: "module",
  engines,
};

function writePackage(name, manifest, readme) {
  const dir = path.join(OUT, name);
  writeFileSync(path.join(dir, "package.json"), `${JSON.stringify({ name, ...common, ...manifest }, null, 2)}\n`);
  writeFileSync(path.join(dir, "README.md"), readme);
}

function fresh(name) {
  const dir = path.join(OUT, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Every bundled input must come from the `sources` folders (or, with `dependencies`, an installed
 * package): a server/ or generated/ file in a client package is a build failure.
 */
function assertInputs(name, metafile, sources, { dependencies = false } = {}) {
  const allowed = (input) => sources.some((prefix) => input.startsWith(prefix)) || (dependencies && /(^|\/)node_modules\//.test(input));
  const stray = Object.keys(metafile.inputs).filter((input) => !allowed(input));
  if (stray.length) throw new Error(`${name} would bundle ${stray.slice(0, 5).join(", ")}${stray.length > 5 ? ", …" : ""}`);
}

async function buildSdk() {
  const dir = fresh("talon-sdk");
  const result = await esbuild.build({
    entryPoints: [path.join(ROOT, "lib/sdk/index.ts")],
    outfile: path.join(dir, "index.mjs"),
    bundle: true,
    platform: "neutral",
    format: "esm",
    target: "es2022",
    metafile: true,
    logLevel: "warning",
  });
  const shared = ["lib/crypto/cmek.ts", "lib/eip3009.ts", "lib/chains.ts", "lib/jwt-shape.ts"];
  assertInputs("talon-sdk", result.metafile, ["lib/sdk/", ...shared]);
  emitSdkDeclarations(ROOT, path.join(dir, "types"), shared);
  writePackage(
    "talon-sdk",
    {
      description: "TypeScript SDK for Talon, the self-hosted secrets manager for AI agents (the 1Claw SDK's resources and shapes)",
      sideEffects: false,
      exports: { ".": { types: "./types/index.d.ts", import: "./index.mjs", default: "./index.mjs" }, "./package.json": "./package.json" },
      main: "./index.mjs",
      types: "./types/index.d.ts",
      files: ["index.mjs", "types"],
    },
    [
      "# talon-sdk",
      "",
      "The typed client for a Talon server's `/v1` API. ESM, no dependencies, runs in Node 20+ and browsers.",
      "",
      "```js",
      'import { createClient } from "talon-sdk";',
      "const talon = createClient({ baseUrl: process.env.ONECLAW_BASE_URL, agentId: process.env.ONECLAW_AGENT_ID, apiKey: process.env.ONECLAW_AGENT_API_KEY });",
      'const { data, error } = await talon.secrets.get(process.env.ONECLAW_VAULT_ID, "api/openai-key");',
      "```",
      "",
      "Every method resolves to `{ data, error, meta }` and never throws for HTTP errors.",
      "",
    ].join("\n"),
  );
}

/** The licence texts of the packages bundled into a build, which their licences ask to travel with the code. */
function thirdPartyLicenses(metafile) {
  const dirs = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m) dirs.add(m[1]);
  }
  const sections = new Map();
  for (const dir of dirs) {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, dir, "package.json"), "utf8"));
    const file = readdirSync(path.join(ROOT, dir)).find((f) => /^licen[sc]e/i.test(f));
    const text = file ? readFileSync(path.join(ROOT, dir, file), "utf8").trim() : `License: ${pkg.license ?? "see the package"}`;
    sections.set(`${pkg.name}@${pkg.version}`, `## ${pkg.name}@${pkg.version}\n\n\`\`\`\n${text}\n\`\`\`\n`);
  }
  const body = [...sections.keys()].sort().map((k) => sections.get(k));
  return `# Third-party licences\n\nbin/talon-mcp.mjs bundles these packages.\n\n${body.join("\n")}`;
}

/** The same program as the checkout's cli/bin/talon-mcp.mjs, with the MCP SDK, zod and the contract bundled in. */
const MCP_ENTRY = `
import { MCP_HELP, runMcpStdio } from "./cli/src/commands/mcp.ts";
if (process.argv.includes("--help") || process.argv.includes("-h")) process.stdout.write(MCP_HELP + "\\n");
else process.exitCode = await runMcpStdio();
`;

async function buildMcp() {
  const dir = fresh("talon-mcp");
  const result = await esbuild.build({
    stdin: { contents: MCP_ENTRY, resolveDir: ROOT, sourcefile: "talon-mcp.ts", loader: "ts" },
    outfile: path.join(dir, "bin/talon-mcp.mjs"),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    minify: true,
    legalComments: "linked",
    metafile: true,
    // CommonJS dependencies inside an ES module still call require() for Node built-ins.
    banner: { js: '#!/usr/bin/env node\nimport { createRequire as __talonRequire } from "node:module";\nconst require = __talonRequire(import.meta.url);' },
    logLevel: "warning",
  });
  assertInputs("talon-mcp", result.metafile, ["talon-mcp.ts", "cli/src/", "lib/"], { dependencies: true });
  writeFileSync(path.join(dir, "THIRD-PARTY-LICENSES.md"), thirdPartyLicenses(result.metafile));
  writePackage(
    "talon-mcp",
    {
      description: "Stdio MCP server for Talon: secrets tools for AI agents, configured with the ONECLAW_* variables",
      bin: { "talon-mcp": "bin/talon-mcp.mjs" },
      files: ["bin", "THIRD-PARTY-LICENSES.md"],
    },
    [
      "# talon-mcp",
      "",
      "The Talon MCP server over stdio, for an agent framework's `mcpServers` entry. Every dependency is bundled.",
      "",
      "```json",
      '{ "mcpServers": { "talon": { "command": "npx", "args": ["-y", "talon-mcp"],',
      '  "env": { "ONECLAW_AGENT_ID": "…", "ONECLAW_AGENT_API_KEY": "ocv_…", "ONECLAW_VAULT_ID": "…", "ONECLAW_BASE_URL": "https://talon.example.com" } } } }',
      "```",
      "",
      "`talon-mcp --help` lists the variables and tools. Logs go to stderr; stdout is the MCP protocol.",
      "",
    ].join("\n"),
  );
}

/** `redocly lint` with the repo's redocly.yaml: any problem, a warning included, fails the build. */
function lint(dir, file) {
  let stdout;
  try {
    stdout = execFileSync(path.join(ROOT, "node_modules/.bin/redocly"), ["lint", file, "--config", path.join(ROOT, "redocly.yaml"), "--format=json"], {
      cwd: dir,
      env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
      stdio: ["ignore", "pipe", "ignore"],
      encoding: "utf8",
    });
  } catch (e) {
    stdout = e.stdout ?? "";
  }
  const problems = JSON.parse(stdout || '{"problems":[{"severity":"error","ruleId":"redocly","message":"no report"}]}').problems;
  if (problems.length) {
    throw new Error(`redocly lint ${file}:\n${problems.map((p) => `${p.severity} ${p.ruleId} ${p.location?.[0]?.pointer ?? ""}: ${p.message}`).join("\n")}`);
  }
}

async function buildOpenApi() {
  const dir = fresh("talon-openapi");
  const { publishedOpenApiDocument } = await tsImport("./openapi-document.ts", import.meta.url);
  const { json, yaml } = publishedOpenApiDocument();
  writeFileSync(path.join(dir, "openapi.json"), json);
  writeFileSync(path.join(dir, "openapi.yaml"), yaml);
  lint(dir, "openapi.json");
  // The YAML spelling too, so a serialisation fault fails the build.
  lint(dir, "openapi.yaml");
  writePackage(
    "talon-openapi",
    {
      description: "The OpenAPI 3.1 document of Talon's /v1 API, as JSON and YAML",
      exports: { ".": "./openapi.json", "./openapi.json": "./openapi.json", "./openapi.yaml": "./openapi.yaml", "./package.json": "./package.json" },
      main: "./openapi.json",
      files: ["openapi.json", "openapi.yaml"],
    },
    [
      "# talon-openapi",
      "",
      "The OpenAPI 3.1 document of Talon's API, generated from the server's route schemas: `openapi.json` and `openapi.yaml`.",
      "A running server serves the same document at `/openapi.json`, `/openapi.yaml` and `/v1/openapi.json` (with its own address in `servers`).",
      "",
    ].join("\n"),
  );
}

mkdirSync(OUT, { recursive: true });
await Promise.all([buildSdk(), buildMcp()]);
await buildOpenApi();
console.error(`packages built in ${OUT} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
