import { createServer } from "node:http";
import { createApiApp } from "../../server/api/app";
import { loadConfig } from "../../server/config";
import { createDispatcher } from "../../server/http/node-listener";
import { ensureSoftHsmToken } from "../../server/keystore/softhsm-setup";
import { createRuntime } from "../../server/runtime";

/**
 * Talon's API in a process of its own (no Next.js, no build) for the CMEK crash test, which kills it
 * with SIGKILL: the same runtime and app as server.ts, on TALON_DATA_DIR / DATABASE_URL / PORT.
 */
const config = loadConfig();
ensureSoftHsmToken(config.dataDir, "talon");
const rt = await createRuntime(config, { migrate: true });
const server = createServer(createDispatcher(createApiApp(rt)));
server.listen(config.port, "127.0.0.1", () => process.stdout.write("cmek-process listening\n"));
