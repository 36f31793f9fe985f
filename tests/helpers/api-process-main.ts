/**
 * A Talon API process for multi-process tests (run with `node --import tsx`): the real runtime, API
 * app and background jobs of server.ts (webhooks, the rotation scan), without Next.js (the dashboard
 * is not what these tests are about, and this needs no production build). Prints
 * `<label> listening <url>` once serving; SIGTERM shuts down as server.ts does. Started by
 * tests/helpers/api-process.ts, whose options arrive as TALON_TEST_* variables.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createApiApp } from "../../server/api/app";
import { loadConfig } from "../../server/config";
import { createDispatcher } from "../../server/http/node-listener";
import { ensureSoftHsmToken } from "../../server/keystore/softhsm-setup";
import { createRuntime } from "../../server/runtime";
import { startRotationScan } from "../../server/secrets/rotation-scan";
import { startWebhookJobs } from "../../server/webhooks/jobs";

const config = loadConfig();
if (config.keystore.provider === "pkcs11") ensureSoftHsmToken(config.dataDir, config.keystore.tokenLabel);
const rt = await createRuntime(config, { migrate: process.env.TALON_TEST_MIGRATE !== "0" });
const jobs = process.env.TALON_TEST_JOBS === "0" ? [] : [startWebhookJobs(rt), startRotationScan(rt)];
const server = createServer(createDispatcher(createApiApp(rt)));
server.listen(config.port, "127.0.0.1", () => {
  process.stdout.write(`${process.env.TALON_TEST_PROCESS_LABEL ?? "api-process"} listening http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
process.on("SIGTERM", () => {
  server.closeAllConnections();
  server.close(async () => {
    for (const job of jobs.reverse()) await job.stop();
    await rt.close();
    process.exit(0);
  });
});
