import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { type MailFile, parseMail } from "./accounts";

export type TestSmtpServer = {
  /** `smtp://127.0.0.1:<port>`, for TALON_SMTP_URL. */
  url: string;
  messages: (MailFile & { envelopeTo: string[] })[];
  /** Resolves with the first message whose envelope recipient is `to` (waits up to `timeoutMs`). */
  waitForMail(to: string, timeoutMs?: number): Promise<MailFile>;
  close(): Promise<void>;
};

/**
 * A real SMTP server on loopback that keeps every message it accepts. Plain SMTP without STARTTLS or
 * AUTH: it only ever talks to the test's own Talon server.
 */
export async function startSmtpServer(): Promise<TestSmtpServer> {
  const messages: TestSmtpServer["messages"] = [];
  const waiters: (() => void)[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const envelopeTo = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
        messages.push({ ...parseMail(Buffer.concat(chunks).toString("utf8")), envelopeTo });
        for (const w of waiters.splice(0)) w();
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.server.address() as AddressInfo;

  const find = (to: string) => messages.find((m) => m.envelopeTo.includes(to.toLowerCase()));
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    async waitForMail(to, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = find(to);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no mail to ${to} within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
