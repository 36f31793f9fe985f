import { describe, expect, it } from "vitest";
import { fileOf, moduleOf, Tally } from "../../scripts/bench/perf";

/** The bench's perf summary (scripts/bench/perf.ts, BENCH_PERF_DIR) on frames as `perf script` prints them, leaf first. */
const MAP = "(/tmp/perf-10029.map)";
const NODE = "(/usr/bin/node)";
const sample = {
  // A builtin called by undici's Headers#set, called by our middleware: booked to Headers#set.
  headers: [
    `7f27aaa12000 Builtins_StringAdd_CheckNone+0x40 ${NODE}`,
    `7f27aaa128e1 JS:*set node:internal/deps/undici/undici:9131:10+0x1a1 ${MAP}`,
    `7f27aaa98584 JS:* file:///work/main/dist/server.mjs:5517:10+0xc04 ${MAP}`,
    `14ce0dc Builtins_JSEntryTrampoline+0x5c ${NODE}`,
  ],
  // An anonymous function in a scoped package's file.
  nodeServer: [`7f27aaaaf7d6 JS:* file:///work/main/node_modules/@hono/node-server/dist/index.mjs:1052:9+0xe16 ${MAP}`],
  // A not yet optimised function (`~`) of an unscoped package.
  hono: [`7f27aaa9d5b9 JS:~#dispatch file:///work/main/node_modules/hono/dist/hono-base.js:261:11+0xeb9 ${MAP}`],
  // A regular expression's compiled code, called from JavaScript: booked to the expression.
  regexp: [
    `7fe08818908a RegExp:[\\0\\r\\n]+0x4a ${MAP}`,
    `15d5282 Builtins_RegExpPrototypeTestFast+0x282 ${NODE}`,
    `7fe08822c2d1 JS:*get file:///work/main/node_modules/@hono/node-server/dist/index.mjs:113:5+0xc11 ${MAP}`,
  ],
  // No JavaScript on the stack (a GC thread, the kernel): booked to the leaf's shared object.
  native: [`ffffffff8b0f0d2a _raw_spin_unlock_irqrestore+0x1a ([kernel.kallsyms])`, `7f00 start_thread+0x10 (/usr/lib/x86_64-linux-gnu/libc.so.6)`],
};

describe("bench perf summary", () => {
  it("books each sample to its leaf-most JavaScript frame, by module and by function", () => {
    const t = new Tally();
    t.add(sample.headers);
    t.add(sample.headers);
    t.add(sample.nodeServer);
    t.add(sample.hono);
    t.add(sample.regexp);
    t.add(sample.native);
    t.add([]); // the empty stack between two samples counts nothing
    expect(t.samples).toBe(6);
    const report = t.report("put");
    expect(report).toMatch(/^put: 6 CPU samples/);
    const [byModule = "", rest = ""] = report.split("By function:");
    const [byFunction = "", onStack = ""] = rest.split("On the stack");
    expect(byModule).toContain(" 33.33 %  node:internal/deps/undici/undici\n");
    expect(byModule).toContain(" 16.67 %  @hono/node-server\n");
    expect(byModule).toContain(" 16.67 %  hono\n");
    expect(byModule).toContain(" 16.67 %  (regular expressions)\n");
    expect(byModule).toContain(" 16.67 %  native:[kernel.kallsyms]\n");
    expect(byModule).not.toContain("dist/server.mjs"); // the caller of Headers#set is not booked
    expect(byFunction).toContain(" 33.33 %  set node:internal/deps/undici/undici:9131\n");
    expect(byFunction).toContain(" 16.67 %  (anonymous) @hono/node-server/dist/index.mjs:1052\n");
    expect(byFunction).toContain(" 16.67 %  #dispatch hono/dist/hono-base.js:261\n");
    expect(byFunction).toContain(" 16.67 %  RegExp:[\\0\\r\\n]\n");
    // Sorted, largest first.
    expect(byFunction.trim().split("\n")[0]).toContain("set node:internal/deps/undici/undici:9131");
    expect(byFunction).not.toContain("dist/server.mjs");
    // On the stack: every JavaScript frame of a sample, its callers included, once a sample.
    expect(onStack).toContain(" 33.33 %  set node:internal/deps/undici/undici:9131\n");
    // (The project's file relative to the working directory: a clone elsewhere names it ../main/dist/….)
    expect(onStack).toMatch(/ 33\.33 % {2}\(anonymous\) \S*dist\/server\.mjs:5517\n/);
    expect(onStack).toContain(" 16.67 %  get @hono/node-server/dist/index.mjs:113\n");
    expect(onStack).not.toContain("RegExp:");
    expect(onStack).not.toContain("native:");
  });

  it("counts a function once a sample on the stack, however often it recurs there", () => {
    const t = new Tally();
    const frame = `7f27aaa9d5b9 JS:*dispatch file:///work/main/node_modules/hono/dist/compose.js:24:26+0x10 ${MAP}`;
    t.add([frame, frame, frame]);
    t.add(sample.native);
    const onStack = t.report("get").split("On the stack")[1]!;
    expect(onStack).toContain(" 50.00 %  dispatch hono/dist/compose.js:24\n");
  });

  it("names files inside node_modules, Node's own modules and the project's", () => {
    expect(fileOf("file:///work/main/node_modules/zod/v4/core/schemas.js")).toBe("zod/v4/core/schemas.js");
    expect(moduleOf("file:///work/main/node_modules/zod/v4/core/schemas.js")).toBe("zod");
    expect(moduleOf("file:///x/node_modules/@hono/zod-openapi/dist/index.mjs")).toBe("@hono/zod-openapi");
    expect(moduleOf("node:_http_server")).toBe("node:_http_server");
    expect(moduleOf(`file://${process.cwd()}/dist/server.mjs`)).toBe("dist/server.mjs");
  });
});
