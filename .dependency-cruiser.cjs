/**
 * The layering of ARCHITECTURE.md's layout table, checked by `npm run lint` after eslint.
 * Type-only imports count too: a cycle through types is still two modules that cannot be understood
 * apart.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "Modules form a tree: split shared pieces into a module both sides import.",
      from: { path: "^(app|components|lib|server|cli)/" },
      to: { circular: true },
    },
    {
      name: "lib-is-isomorphic",
      severity: "error",
      comment: "lib/ imports only lib/ (and packages): the SDK, MCP tools and contract ship without the server.",
      from: { path: "^lib/" },
      to: { path: "^(server|app|components|cli)/|^server\\.ts$" },
    },
    {
      name: "cli-talks-http",
      severity: "error",
      comment: "cli/ imports only lib/ (and packages): it talks HTTP, never to server/.",
      from: { path: "^cli/" },
      to: { path: "^(server|app|components)/|^server\\.ts$" },
    },
    {
      name: "components-are-presentational",
      severity: "error",
      comment: "components/ import lib/ and each other, never app/ or server/ (pages hand them data and actions).",
      from: { path: "^components/" },
      to: { path: "^(server|app)/|^server\\.ts$" },
    },
    {
      name: "server-below-app",
      severity: "error",
      comment: "server/ never imports the dashboard (app/, components/) or the CLI.",
      from: { path: "^server/" },
      to: { path: "^(app|components|cli)/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)(node_modules|generated|\\.next|dist)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default", "types"], extensions: [".ts", ".tsx", ".js", ".mjs", ".cjs", ".json"] },
  },
};
