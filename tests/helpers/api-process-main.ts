/**
 * A Talon API process for multi-process tests (run with `node --import tsx`): the real runtime, API
 * app and background jobs of server.ts (webhooks, the rotation scan), without Next.js (the dashboard is not what these tests are
 * about, and this needs no production build). Prints `{"listening":<port>}` once serving; SIGTERM
 * shuts down as server.ts does.
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
// TALON_TEST_MIGRATE=0: a second instance on a SQLite file another process already migrated and holds open.
const rt = await createRuntime(config, { migrate: process.env.TALON_TEST_MIGRATE !== "0" });
const jobs = startWebhookJobs(rt);
const rotationScan = startRotationScan(rt);
const server = createServer(createDispatcher(createApiApp(rt)));
server.listen(config.port, "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ listening: (server.address() as AddressInfo).port })}\n`);
});
process.on("SIGTERM", () => {
  server.closeAllConnections();
  server.close(async () => {
    await rotationScan.stop();
    await jobs.stop();
    await rt.close();
    process.exit(0);
  });
});
