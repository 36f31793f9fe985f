import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Metrics } from "./index";

export type MetricsAddr = { host: string; port: number };

export type MetricsListener = {
  /** Where it actually listens (port 0 in the configuration picks a free one). */
  host: string;
  port: number;
  close(): Promise<void>;
};

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/i;

/** True when only this machine can reach `host`; anything else needs a firewall or a scraper-only network. */
export const isLoopbackHost = (host: string) => LOOPBACK.test(host);

function answer(metrics: Metrics, req: IncomingMessage, res: ServerResponse) {
  const path = (req.url ?? "/").split("?", 1)[0];
  if (path !== "/metrics") {
    res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end("Not found: metrics are at /metrics\n");
    return;
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { Allow: "GET, HEAD", "Content-Type": "text/plain; charset=utf-8" }).end("Method not allowed\n");
    return;
  }
  metrics.scrape().then(
    (text) => {
      res.writeHead(200, { "Content-Type": metrics.contentType, "Cache-Control": "no-store" });
      res.end(req.method === "HEAD" ? undefined : text);
    },
    () => {
      res.writeHead(500, { "Content-Type": "text/plain; charset=utf-8" }).end("Metrics collection failed\n");
    },
  );
}

/**
 * `GET /metrics` on its own listener, never on the API's port: the operator decides who may reach it
 * (127.0.0.1:9464 by default). It serves nothing else. Rejects when the address cannot be bound.
 */
export function startMetricsListener(metrics: Metrics, addr: MetricsAddr): Promise<MetricsListener> {
  metrics.enableProcessMetrics();
  const server = createServer((req, res) => answer(metrics, req, res));
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(addr.port, addr.host, () => {
      server.off("error", reject);
      const { address, port } = server.address() as AddressInfo;
      resolve({
        host: address,
        port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
