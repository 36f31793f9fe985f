import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";

/**
 * The few Redis commands the shared rate limiter needs (EVAL, AUTH, SELECT), over one connection
 * speaking RESP2, pipelined: replies come back in request order, so each command waits for its own.
 * `redis://[user:password@]host[:port][/db]`, `rediss://` for TLS. A lost connection fails the
 * commands in flight and reconnects on the next command. Deliberately small: the rate limiter is
 * its only user (see server/http/rate-store.ts).
 */
type Reply = string | number | null | Reply[];
type Waiter = { resolve(r: Reply): void; reject(e: Error): void };

export class RedisError extends Error {}

const encode = (args: (string | number)[]) =>
  `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join("")}`;

/** Parses one reply at `pos`; null when the buffer does not hold a whole one yet. */
function parse(buf: Buffer, pos: number): { value: Reply | RedisError; next: number } | null {
  const eol = buf.indexOf("\r\n", pos);
  if (eol < 0) return null;
  const type = String.fromCharCode(buf[pos]!);
  const line = buf.toString("utf8", pos + 1, eol);
  switch (type) {
    case "+":
      return { value: line, next: eol + 2 };
    case "-":
      return { value: new RedisError(line), next: eol + 2 };
    case ":":
      return { value: Number(line), next: eol + 2 };
    case "$": {
      const len = Number(line);
      if (len < 0) return { value: null, next: eol + 2 };
      if (buf.length < eol + 2 + len + 2) return null;
      return { value: buf.toString("utf8", eol + 2, eol + 2 + len), next: eol + 2 + len + 2 };
    }
    case "*": {
      const n = Number(line);
      if (n < 0) return { value: null, next: eol + 2 };
      const items: Reply[] = [];
      let at = eol + 2;
      for (let i = 0; i < n; i++) {
        const item = parse(buf, at);
        if (!item) return null;
        if (item.value instanceof RedisError) return { value: item.value, next: item.next };
        items.push(item.value);
        at = item.next;
      }
      return { value: items, next: at };
    }
    default:
      throw new RedisError("unexpected reply from Redis");
  }
}

export class RedisClient {
  private socket: Socket | null = null;
  private ready: Promise<void> | null = null;
  private waiting: Waiter[] = [];
  private buf: Buffer = Buffer.alloc(0);
  private readonly url: URL;

  constructor(
    url: string,
    private readonly timeoutMs = 2000,
  ) {
    this.url = new URL(url);
  }

  private connect(): Promise<void> {
    const u = this.url;
    const port = Number(u.port || 6379);
    const host = u.hostname.replace(/^\[|\]$/g, "");
    const s = u.protocol === "rediss:" ? tlsConnect({ host, port, servername: host }) : netConnect({ host, port });
    s.setNoDelay(true);
    s.unref();
    this.socket = s;
    s.on("data", (d: Buffer) => this.onData(d));
    const fail = (e: Error) => {
      if (this.socket === s) {
        this.socket = null;
        this.ready = null;
      }
      for (const w of this.waiting.splice(0)) w.reject(e);
      this.buf = Buffer.alloc(0);
    };
    s.on("error", (e) => fail(new RedisError(`Redis connection failed: ${(e as NodeJS.ErrnoException).code ?? e.message}`)));
    s.on("close", () => fail(new RedisError("Redis connection closed")));
    return new Promise<void>((resolve, reject) => {
      s.once(u.protocol === "rediss:" ? "secureConnect" : "connect", () => resolve());
      s.once("error", reject);
    }).then(async () => {
      const user = decodeURIComponent(u.username);
      const password = decodeURIComponent(u.password);
      if (password) await this.send(user ? ["AUTH", user, password] : ["AUTH", password]);
      const db = u.pathname.replace(/^\//, "");
      if (db) await this.send(["SELECT", db]);
    });
  }

  private onData(d: Buffer) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    let pos = 0;
    for (;;) {
      const r = parse(this.buf, pos);
      if (!r) break;
      pos = r.next;
      const w = this.waiting.shift();
      if (r.value instanceof RedisError) w?.reject(r.value);
      else w?.resolve(r.value);
    }
    this.buf = this.buf.subarray(pos);
  }

  private send(args: (string | number)[]): Promise<Reply> {
    const s = this.socket;
    if (!s) return Promise.reject(new RedisError("Redis is not connected"));
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        // A reply that never comes would misalign every later one: drop the connection.
        s.destroy(new RedisError(`no reply from Redis within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.waiting.push({
        resolve: (r) => (clearTimeout(timer), resolve(r)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      s.write(encode(args));
    });
  }

  async command(args: (string | number)[]): Promise<Reply> {
    this.ready ??= this.connect().catch((e: unknown) => {
      this.ready = null;
      this.socket?.destroy();
      throw e instanceof RedisError ? e : new RedisError(`Redis connection failed: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    });
    await this.ready;
    return this.send(args);
  }

  close() {
    this.socket?.destroy();
    this.socket = null;
    this.ready = null;
  }
}
