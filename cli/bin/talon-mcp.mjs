#!/usr/bin/env node
// `talon-mcp` (`npx talon-mcp` from a checkout): the stdio MCP server, the same code as `talon mcp`.
// Runs the TypeScript source through tsx (a runtime dependency), so it needs no build step.
const { tsImport } = await import("tsx/esm/api");
const { runMcpStdio, MCP_HELP } = await tsImport("../src/commands/mcp.ts", import.meta.url);
if (process.argv.includes("--help") || process.argv.includes("-h")) {
  process.stdout.write(`${MCP_HELP}\n`);
} else {
  process.exitCode = await runMcpStdio();
}
