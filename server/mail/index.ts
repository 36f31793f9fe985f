import { randomUUID } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import nodemailer from "nodemailer";
import type { Config } from "../config";
import { log } from "../log";

export type MailMessage = { to: string; subject: string; text: string; html?: string };
export type Mailer = { send(msg: MailMessage): Promise<void> };

/**
 * SMTP when `TALON_SMTP_URL` is set; otherwise every message lands as an RFC 822 `.eml` file in the
 * outbox directory (0700, files 0600), so a self-hosted instance without mail still works and an
 * operator can read the verification link from disk. Message bodies carry verification tokens: they
 * are never logged.
 */
export function createMailer(cfg: Config["mail"]): Mailer {
  if (cfg.smtpUrl) {
    const transport = nodemailer.createTransport(cfg.smtpUrl);
    return {
      async send(msg) {
        const info = await transport.sendMail({ from: cfg.from, ...msg });
        log.debug("mail sent over smtp", { messageId: info.messageId });
      },
    };
  }
  // streamTransport + buffer builds the complete RFC 822 message without any network.
  const builder = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" });
  let outboxReady: Promise<unknown> | null = null;
  return {
    async send(msg) {
      const info = await builder.sendMail({ from: cfg.from, ...msg });
      outboxReady ??= mkdir(cfg.outboxDir, { recursive: true, mode: 0o700 }).catch((e: unknown) => {
        outboxReady = null;
        throw e;
      });
      await outboxReady;
      const file = `${new Date().toISOString().replace(/[:.]/g, "-")}-${randomUUID()}.eml`;
      // `wx`: never overwrite; the mode applies at creation, before any byte is written.
      await writeFile(path.join(cfg.outboxDir, file), info.message as Buffer, { mode: 0o600, flag: "wx" });
      log.info("mail written to outbox", { file });
    },
  };
}
