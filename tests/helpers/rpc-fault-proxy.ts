import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/**
 * A real loopback HTTP relay in front of a real JSON-RPC node, for network faults at a chosen step:
 * it forwards every request and answers with `Connection: close` (each call opens a new TCP
 * connection, so a stopped listener is a refused connection, as a node that went away is). One armed
 * fault applies to the next request for its method:
 * - "drop": the connection is cut before anything is forwarded (the node never sees the request);
 * - "forward-then-drop": forwarded, the node answers, the connection is cut before the answer;
 * - "forward-then-hang": forwarded, and no answer ever comes (the client times out);
 * - "close-after": answered normally, then the relay stops listening (later calls are refused);
 * - "after" hooks run once the node has answered a method, before the relay answers.
 * An upstream that cannot be reached cuts the client's connection, as a TCP relay does.
 */
export type FaultMode = "drop" | "forward-then-drop" | "forward-then-hang" | "close-after";

export type RpcFaultProxy = {
  url: string;
  arm(method: string, mode: FaultMode): void;
  after(method: string, hook: () => Promise<void>): void;
  /** Methods seen, in order. */
  seen: string[];
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
};

export async function startRpcFaultProxy(upstream: string): Promise<RpcFaultProxy> {
  const faults = new Map<string, FaultMode>();
  const hooks = new Map<string, () => Promise<void>>();
  const sockets = new Set<Socket>();
  const seen: string[] = [];
  let server: Server;
  let port = 0;

  const forward = async (body: string) => {
    const res = await fetch(upstream, { method: "POST", headers: { "content-type": "application/json" }, body });
    return { status: res.status, text: await res.text() };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString();
    let method = "";
    try {
      method = String((JSON.parse(body) as { method?: unknown }).method ?? "");
    } catch {
      // Not JSON-RPC: forwarded as is.
    }
    seen.push(method);
    const fault = faults.get(method);
    if (fault) faults.delete(method);
    if (fault === "drop") return req.socket.destroy();
    let answer: { status: number; text: string };
    try {
      answer = await forward(body);
    } catch {
      return req.socket.destroy();
    }
    const hook = hooks.get(method);
    if (hook) {
      hooks.delete(method);
      await hook();
    }
    if (fault === "forward-then-drop") return req.socket.destroy();
    if (fault === "forward-then-hang") return;
    res.writeHead(answer.status, { "content-type": "application/json", connection: "close" });
    res.end(answer.text);
    if (fault === "close-after") await stop();
  };

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((req, res) => void handle(req, res));
      server.on("connection", (s) => {
        sockets.add(s);
        s.on("close", () => sockets.delete(s));
      });
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
    });

  await listen();
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    arm: (method, mode) => void faults.set(method, mode),
    after: (method, hook) => void hooks.set(method, hook),
    stop,
    start: listen,
    async close() {
      for (const s of sockets) s.destroy();
      if (server.listening) await stop();
    },
  };
}
