// Loaded with `node --import` (NODE_OPTIONS) by `npm run bench`, in the Talon server process
// (dist/server.mjs) only: every 500 ms it writes where the server's memory is — resident set, V8 heap
// (used and reserved, per space), memory outside the heap (Buffers, wasm, native) and malloc — to
// BENCH_MEMORY_FILE, so the bench can say what the RSS after a run is made of, not only its size.
import { renameSync, writeFileSync } from "node:fs";
import { getHeapSpaceStatistics, getHeapStatistics } from "node:v8";

const file = process.env.BENCH_MEMORY_FILE;
if (file && /server\.mjs$/.test(process.argv[1] ?? "")) {
  const mb = (bytes) => Math.round((bytes / 1048576) * 10) / 10;
  const sample = () => {
    const m = process.memoryUsage();
    const h = getHeapStatistics();
    const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, { size: mb(s.space_size), used: mb(s.space_used_size) }]));
    const report = {
      at: new Date().toISOString(),
      rss: mb(m.rss),
      heapTotal: mb(m.heapTotal),
      heapUsed: mb(m.heapUsed),
      external: mb(m.external),
      arrayBuffers: mb(m.arrayBuffers),
      mallocedMemory: mb(h.malloced_memory),
      peakMallocedMemory: mb(h.peak_malloced_memory),
      heapSizeLimit: mb(h.heap_size_limit),
      spaces,
    };
    // Written beside, then renamed: a reader never sees half a file.
    writeFileSync(`${file}.part`, JSON.stringify(report));
    renameSync(`${file}.part`, file);
  };
  setInterval(sample, 500).unref();
}
