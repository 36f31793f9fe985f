import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", ".next/", "generated/", "data/", "dist/", "cli/dist/", "next-env.d.ts", "scripts/db/*.mjs"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: "readonly", console: "readonly", Buffer: "readonly", URL: "readonly", setTimeout: "readonly", clearTimeout: "readonly", setInterval: "readonly", clearInterval: "readonly", fetch: "readonly", Response: "readonly", Request: "readonly", Headers: "readonly", TextEncoder: "readonly", TextDecoder: "readonly", AbortController: "readonly", structuredClone: "readonly", setImmediate: "readonly", queueMicrotask: "readonly", crypto: "readonly", performance: "readonly" } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-restricted-imports": "off",
    },
  },
  {
    files: ["**/*.cjs"],
    languageOptions: { sourceType: "commonjs", globals: { module: "writable", require: "readonly" } },
  },
  {
    // cli/ and lib/ talk HTTP; they never reach into server/.
    files: ["cli/**", "lib/**"],
    rules: { "no-restricted-imports": ["error", { patterns: [{ group: ["**/server/**", "!@modelcontextprotocol/sdk/**", "@/server/*", "@/server/**"], message: "cli/ and lib/ must not import server/" }] }] },
  },
);
