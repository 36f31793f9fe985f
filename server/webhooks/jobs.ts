import { log } from "../log";
import type { Runtime } from "../runtime";
import { CLAIM_LIMIT, deliverDue, pruneDeliveries, type SendOptions } from "./delivery";
import { scanExpiringSecrets } from "./expiring";
import { AuditFileSink } from "./file-sink";

/**
 * The background work of webhooks and audit sinks, one set per server process (server.ts starts it
 * beside the HTTP server): the delivery worker every `pollMs`, the `secret.expiring` scan and the
 * outbox pruning every 10 minutes (and once shortly after start), and the audit file sink when
 * TALON_AUDIT_FILE is set. Every instance runs all of it; the outbox's claims and unique event ids
 * make that safe.
 */
const SCAN_EVERY_MS = 10 * 60_000;
const FIRST_SCAN_MS = 5_000;

export type WebhookJobs = { stop(): Promise<void> };

function loop(name: string, everyMs: number, firstMs: number, run: () => Promise<unknown>) {
  let timer: NodeJS.Timeout | null = null;
  let current: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const tick = () => {
    current = run()
      .catch((e: unknown) => log.error(`${name} failed`, { error: e instanceof Error ? e.message.split("\n")[0] : "unknown" }))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, everyMs);
      });
  };
  timer = setTimeout(tick, firstMs);
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await current;
  };
}

export function startWebhookJobs(rt: Runtime, opts: SendOptions = {}): WebhookJobs {
  const { pollMs } = rt.config.webhooks;
  const stops = [
    loop("webhook delivery", pollMs, pollMs, async () => {
      // Keep going while full passes come back: a backlog drains without waiting a poll each time.
      while ((await deliverDue(rt, opts)) >= CLAIM_LIMIT);
    }),
    loop("secret expiry scan", SCAN_EVERY_MS, FIRST_SCAN_MS, () => scanExpiringSecrets(rt)),
    loop("webhook outbox pruning", SCAN_EVERY_MS, FIRST_SCAN_MS, () => pruneDeliveries(rt.db)),
  ];
  let sink: AuditFileSink | null = null;
  if (rt.config.auditFile) {
    sink = new AuditFileSink(rt.db, rt.config.auditFile);
    sink.start();
  }
  return {
    async stop() {
      await Promise.all(stops.map((s) => s()));
      await sink?.stop();
    },
  };
}
