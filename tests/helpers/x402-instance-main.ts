/**
 * A second Talon API instance as its own process (run under tsx) for the x402 race test: the API app
 * on a free loopback port over the configuration in its environment — the same database and data
 * dir (HSM token) as the test's in-process server. Prints `listening <url>` once it serves.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createApiApp } from "../../server/api/app";
import { loadConfig } from "../../server/config";
import { createDispatcher } from "../../server/http/node-listener";
import { createRuntime } from "../../server/runtime";

const rt = await createRuntime(loadConfig(), { migrate: false });
const server = createServer(createDispatcher(createApiApp(rt)));
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
console.log(`listening http://127.0.0.1:${(server.address() as AddressInfo).port}`);
process.on("SIGTERM", () => {
  server.closeAllConnections();
  server.close(() => void rt.close().finally(() => process.exit(0)));
});
