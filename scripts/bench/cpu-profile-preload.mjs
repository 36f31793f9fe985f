// Loaded with `node --import` (NODE_OPTIONS) by `npm run bench` when BENCH_PROFILE_DIR is set, since
// --cpu-prof itself is refused in NODE_OPTIONS. In the Talon server process (dist/server.mjs) only:
// SIGUSR2 starts the in-process V8 CPU profiler, the next SIGUSR2 stops it and writes
// `<BENCH_PROFILE_DIR>/server-<pid>-<n>.cpuprofile`, so each profile covers one measured scenario.
import { renameSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import path from "node:path";

const dir = process.env.BENCH_PROFILE_DIR;
if (dir && /server\.mjs$/.test(process.argv[1] ?? "")) {
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.setSamplingInterval", { interval: 500 });
  let running = false;
  let n = 0;
  process.on("SIGUSR2", () => {
    if (!running) {
      running = true;
      session.post("Profiler.start");
      return;
    }
    running = false;
    session.post("Profiler.stop", (err, result) => {
      if (err) return;
      const file = path.join(dir, `server-${process.pid}-${++n}.cpuprofile`);
      // Written beside, then renamed: the bench waits for the final name to appear.
      writeFileSync(`${file}.part`, JSON.stringify(result.profile));
      renameSync(`${file}.part`, file);
    });
  });
}
