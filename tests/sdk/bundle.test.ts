import { build } from "esbuild";
import path from "node:path";
import { expect, test } from "vitest";

/** The SDK must run in a browser: one fetch-based bundle with no Node built-ins and no zod. */
test("lib/sdk bundles for the browser without Node built-ins or runtime dependencies", async () => {
  const result = await build({
    entryPoints: [path.resolve("lib/sdk/index.ts")],
    bundle: true,
    write: false,
    platform: "browser",
    format: "esm",
    metafile: true,
    logLevel: "silent",
  });
  const inputs = Object.keys(result.metafile.inputs);
  // lib/sdk plus the dependency-free pieces it shares with the server: the CMEK blob, EIP-3009 types, the chain list, the JWT shape.
  expect(inputs.filter((i) => !i.startsWith("lib/sdk/") && !["lib/crypto/cmek.ts", "lib/eip3009.ts", "lib/chains.ts", "lib/jwt-shape.ts"].includes(i))).toEqual([]);
  const code = result.outputFiles[0]!.text;
  expect(code).not.toMatch(/from\s*["']node:|require\(["']/);
  expect(code).toContain("createClient");
  // A budget that catches a dependency pulled in by accident (the SDK itself is ~40 kB unminified
  // since bindings, execute, approvals and inject).
  expect(code.length).toBeLessThan(48_000);
});
