import { type ApiProcess, NO_RATE_LIMITS, startApiProcess } from "./api-process";

export type CmekProcess = ApiProcess;

/**
 * The CMEK crash test's Talon: the API alone (no background jobs) on a data dir and database the test
 * opens directly between kills, logging at info so the key canary reads every line.
 */
export function startCmekProcess(opts: { dataDir: string; databaseUrl: string; port: number }): Promise<CmekProcess> {
  const env = { TALON_DATA_DIR: opts.dataDir, DATABASE_URL: opts.databaseUrl, TALON_LOG_LEVEL: "info", ...NO_RATE_LIMITS };
  return startApiProcess(env, { port: opts.port, jobs: false, label: "cmek-process" });
}
