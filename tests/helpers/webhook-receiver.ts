import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A real HTTP receiver on loopback for webhook tests. `answer` decides each response (status, extra
 * headers, body) from the request count; every request is recorded with its headers and raw body.
 */
export type Received = { path: string; headers: IncomingHttpHeaders; body: string; at: number };
export type Answer = { status: number; headers?: Record<string, string>; body?: string; hang?: boolean };

export type Receiver = {
  url: string;
  port: number;
  received: Received[];
  setAnswer(fn: (n: number, req: Received) => Answer): void;
  close(): Promise<void>;
};

export async function startReceiver(answer: (n: number, req: Received) => Answer = () => ({ status: 200 })): Promise<Receiver> {
  let decide = answer;
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (b: Buffer) => chunks.push(b));
    req.on("end", () => {
      const r: Received = { path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), at: Date.now() };
      received.push(r);
      const a = decide(received.length, r);
      if (a.hang) return;
      res.writeHead(a.status, a.headers ?? {});
      res.end(a.body ?? "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    setAnswer: (fn) => (decide = fn),
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * The receiver's check, written from docs/operations/webhooks.md: `Talon-Signature: t=<ts>,v1=<hex>`,
 * v1 = HMAC-SHA256(secret, "<ts>.<raw body>"), compared in constant time, timestamp within 5 minutes.
 */
export function verifyTalonSignature(secret: string, header: string | undefined, body: string, nowSeconds = Math.floor(Date.now() / 1000)): boolean {
  if (!header) return false;
  const parts = Object.fromEntries(header.split(",").map((kv) => kv.split("=", 2) as [string, string]));
  const ts = Number(parts.t);
  if (!Number.isInteger(ts) || Math.abs(nowSeconds - ts) > 300 || !parts.v1) return false;
  const expected = createHmac("sha256", secret).update(`${parts.t}.${body}`).digest();
  const given = Buffer.from(parts.v1, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 15_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
