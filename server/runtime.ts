import { AuditWriter } from "./audit/writer";
import { type Config, loadConfig } from "./config";
import { VaultKeyService } from "./crypto/vault-keys";
import { type Db, type Dialect, migrateDatabase, openDatabase } from "./db";
import { TokenService } from "./identity/tokens";
import { openKeystore } from "./keystore";
import type { Keystore } from "./keystore/types";
import { setLogLevel } from "./log";
import { createMailer, type Mailer } from "./mail";
import { createMetrics, type Metrics } from "./metrics";
import { assertMasterKeysPresent } from "./ops/master-keys";

/** Everything a request needs that lives as long as the process. Built once by `createRuntime`. */
export type Runtime = {
  config: Config;
  db: Db;
  dialect: Dialect;
  keystore: Keystore;
  vaultKeys: VaultKeyService;
  tokens: TokenService;
  mailer: Mailer;
  audit: AuditWriter;
  /** This runtime's Prometheus registry (served by server/metrics/listener on its own port). */
  metrics: Metrics;
  close(): Promise<void>;
};

export async function createRuntime(config: Config, opts: { migrate?: boolean } = {}): Promise<Runtime> {
  setLogLevel(config.logLevel);
  // The keystore first: a wrong PIN must stop start-up before anything else happens.
  const metrics = createMetrics();
  const keystore = await openKeystore(config, metrics);
  try {
    await keystore.selfTest();
    if (opts.migrate) await migrateDatabase(config.databaseUrl);
    const { db, dialect, close, poolStats } = await openDatabase(config.databaseUrl);
    // A database restored without its HSM token must not start: every secret read would fail.
    await assertMasterKeysPresent(db, keystore, config).catch(async (e: unknown) => {
      await close();
      throw e;
    });
    if (poolStats) metrics.watchDbPool(poolStats);
    const audit = new AuditWriter(db, config.auditFlushMs, metrics);
    const vaultKeys = new VaultKeyService(keystore, config.vaultKeyCache, metrics);
    const rt: Runtime = {
      config,
      db,
      dialect,
      keystore,
      vaultKeys,
      tokens: new TokenService(keystore, config),
      mailer: createMailer(config.mail),
      audit,
      metrics,
      async close() {
        await audit.drain();
        vaultKeys.clear();
        await close();
        await keystore.close();
      },
    };
    return rt;
  } catch (e) {
    await keystore.close();
    throw e;
  }
}

const GLOBAL_KEY = Symbol.for("talon.runtime");
type WithRuntime = typeof globalThis & { [GLOBAL_KEY]?: Promise<Runtime> };

/** The process-wide runtime (Next.js route handlers and server components use this). */
export function getRuntime(): Promise<Runtime> {
  const g = globalThis as WithRuntime;
  g[GLOBAL_KEY] ??= createRuntime(loadConfig());
  return g[GLOBAL_KEY];
}

export function setRuntime(rt: Runtime) {
  (globalThis as WithRuntime)[GLOBAL_KEY] = Promise.resolve(rt);
}
