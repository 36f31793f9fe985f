import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { client } from "./http";
import type { TestServer } from "./server";

export type MailFile = { file: string; to: string; subject: string; text: string; raw: string };

/** Decodes a quoted-printable body (nodemailer uses it when a line is long or not ASCII). */
function decodeQuotedPrintable(s: string): string {
  const bytes = s.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  return Buffer.from(bytes, "latin1").toString("utf8");
}

/** A single-part RFC 822 message as nodemailer writes it: headers, a blank line, the body. */
export function parseMail(raw: string, file = ""): MailFile {
  const normalised = raw.replace(/\r\n/g, "\n");
  const split = normalised.indexOf("\n\n");
  const head = normalised.slice(0, split).replace(/\n[ \t]+/g, " ");
  const body = normalised.slice(split + 2);
  const header = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, "im").exec(head)?.[1]?.trim() ?? "";
  const text = /quoted-printable/i.test(header("Content-Transfer-Encoding")) ? decodeQuotedPrintable(body) : body;
  return { file, to: header("To"), subject: header("Subject"), text, raw };
}

/** Every message the file mailer has written to `<dataDir>/outbox`, oldest first. */
export function readOutbox(server: Pick<TestServer, "dataDir">): MailFile[] {
  const dir = path.join(server.dataDir, "outbox");
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith(".eml")).sort();
  } catch {
    return [];
  }
  return files.map((f) => parseMail(readFileSync(path.join(dir, f), "utf8"), path.join(dir, f)));
}

/** The verification token in a message: the bare token after the link's `token=`. */
export function verificationTokenFrom(mail: Pick<MailFile, "text">): string {
  const m = /verify-email#token=([A-Za-z0-9_-]{20,128})/.exec(mail.text);
  if (!m) throw new Error("no verification link in the message");
  return m[1]!;
}

/** The newest verification token mailed to `email` through the outbox. */
export function outboxTokenFor(server: Pick<TestServer, "dataDir">, email: string): string {
  const mail = readOutbox(server)
    .filter((m) => m.to.toLowerCase().includes(email.toLowerCase()))
    .at(-1);
  if (!mail) throw new Error(`no mail to ${email} in the outbox`);
  return verificationTokenFrom(mail);
}

export const uniqueEmail = (tag = "user") => `${tag}-${randomUUID().slice(0, 8)}@example.test`;

/**
 * A verified account over real HTTP: signup → the verification mail from the outbox → verify-email.
 * Needs a server without TALON_SMTP_URL (mail goes to the outbox).
 */
export async function signUpVerified(
  server: TestServer,
  opts: { email?: string; password?: string; displayName?: string; tier?: "free" | "pro" | "business" | "enterprise" } = {},
): Promise<{ token: string; userId: string; orgId: string; email: string; password: string }> {
  const email = (opts.email ?? uniqueEmail()).trim().toLowerCase();
  const password = opts.password ?? `pw-${randomUUID()}`;
  const api = client(server.url);
  const signup = await api.post("/v1/auth/signup", { email, password, ...(opts.displayName ? { display_name: opts.displayName } : {}) });
  if (signup.status !== 201) throw new Error(`signup failed: ${signup.status} ${signup.text}`);
  const verified = await api.post("/v1/auth/verify-email", { token: outboxTokenFor(server, email) });
  if (verified.status !== 200) throw new Error(`verify-email failed: ${verified.status} ${verified.text}`);
  const token = verified.body.access_token as string;
  const me = await api.withToken(token).get("/v1/auth/me");
  if (me.status !== 200) throw new Error(`me failed: ${me.status} ${me.text}`);
  // Tests of other features must not trip over plan limits: their orgs are unlimited unless a test
  // asks for a tier (the billing tests do).
  const tier = opts.tier ?? "enterprise";
  if (tier !== "free") await server.rt.db.org.update({ where: { id: me.body.org_id }, data: { tier } });
  return { token, userId: me.body.id, orgId: me.body.org_id, email, password };
}
