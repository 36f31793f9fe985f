/**
 * A TCP proxy that delays every chunk by a fixed time in each direction, for the bench's PostgreSQL rows
 * with `BENCH_POSTGRES_DELAY_MS` (./postgres-two.ts): it stands for a database on another machine, where
 * each round trip costs network time rather than only a context switch. Timers of one delay fire in the
 * order they were set, so each direction's bytes keep their order.
 * usage: node delay-proxy.mjs <listen port> <target host> <target port> <delay ms>; prints "ready" once listening.
 */
import net from "node:net";

const [listenPort, host, targetPort, delayMs] = process.argv.slice(2);
const delay = Number(delayMs);

net
  .createServer((client) => {
    const server = net.connect(Number(targetPort), host);
    const pipe = (from, to) => from.on("data", (chunk) => setTimeout(() => to.writable && to.write(chunk), delay));
    pipe(client, server);
    pipe(server, client);
    const close = () => {
      client.destroy();
      server.destroy();
    };
    client.on("error", close).on("close", () => setTimeout(close, delay));
    server.on("error", close).on("close", () => setTimeout(close, delay));
  })
  .listen(Number(listenPort), "127.0.0.1", () => console.log("ready"));
