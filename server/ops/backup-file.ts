import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, type ReadStream } from "node:fs";
import { open, rename, rm, stat } from "node:fs/promises";
import { once } from "node:events";
import { pipeline } from "node:stream/promises";
import { sha256 } from "../crypto/digest";
import { type BackupManifest, ZBackupManifest } from "./manifest";

/**
 * The backup file: one file, readable with a text editor up to its payload.
 *
 *     talon-backup 1 sha256=<hex of the manifest line>\n
 *     <manifest: one line of JSON>\n
 *     <part 1 bytes><part 2 bytes>…      (lengths and SHA-256 of each in the manifest's `parts`)
 *
 * Every checksum is checked before a restore touches anything. The file is written under a temporary
 * name with mode 0600 and renamed into place, so a backup cut short never looks like a whole one.
 */
const MAGIC = "talon-backup 1";
const MAX_HEADER_BYTES = 256;
const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

export class BackupFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BackupFileError";
  }
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(file), hash);
  return hash.digest("hex");
}

/** Writes manifest and parts (files on disk, in manifest order) to `out`, atomically. */
export async function writeBackupFile(out: string, manifest: BackupManifest, partFiles: string[]): Promise<void> {
  const line = JSON.stringify(ZBackupManifest.parse(manifest));
  const header = `${MAGIC} sha256=${sha256(line, "hex")}\n${line}\n`;
  const tmp = `${out}.partial-${process.pid}`;
  try {
    const ws = createWriteStream(tmp, { mode: 0o600, flags: "wx" });
    await new Promise<void>((resolve, reject) => ws.write(header, (e) => (e ? reject(e) : resolve())));
    for (const file of partFiles) {
      for await (const chunk of createReadStream(file)) if (!ws.write(chunk)) await once(ws, "drain");
    }
    await new Promise<void>((resolve, reject) => ws.end((e?: Error | null) => (e ? reject(e) : resolve())));
    const fh = await open(tmp, "r");
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, out);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

export type OpenedBackup = { manifest: BackupManifest; partStream(name: string): ReadStream };

/**
 * Reads the manifest and checks the whole file against it: the manifest's own checksum, each part's
 * length and SHA-256, and nothing after the last part. Throws BackupFileError naming what is wrong.
 */
export async function openBackupFile(file: string): Promise<OpenedBackup> {
  const size = (await stat(file)).size;
  const fh = await open(file, "r");
  let manifest: BackupManifest;
  let payloadStart: number;
  try {
    const head = Buffer.alloc(Math.min(size, MAX_HEADER_BYTES));
    await fh.read(head, 0, head.length, 0);
    const nl = head.indexOf(0x0a);
    const m = nl > 0 ? /^talon-backup (\d+) sha256=([0-9a-f]{64})$/.exec(head.subarray(0, nl).toString("latin1")) : null;
    if (!m) throw new BackupFileError(`${file} is not a Talon backup (no "${MAGIC}" header)`);
    if (m[1] !== "1") throw new BackupFileError(`${file} is a Talon backup of format ${m[1]}; this Talon reads format 1`);
    // The manifest line: read in chunks up to its newline.
    const chunks: Buffer[] = [];
    let pos = nl + 1;
    let end = -1;
    while (end < 0) {
      if (pos - (nl + 1) > MAX_MANIFEST_BYTES || pos >= size) throw new BackupFileError(`${file} is damaged: its manifest is cut short`);
      const buf = Buffer.alloc(Math.min(1024 * 1024, size - pos));
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      const chunk = buf.subarray(0, bytesRead);
      const i = chunk.indexOf(0x0a);
      chunks.push(i >= 0 ? chunk.subarray(0, i) : chunk);
      if (i >= 0) end = pos + i;
      pos += bytesRead;
    }
    const line = Buffer.concat(chunks);
    if (sha256(line, "hex") !== m[2]) throw new BackupFileError(`${file} is damaged: the manifest does not match its checksum`);
    const parsed = ZBackupManifest.safeParse(JSON.parse(line.toString("utf8")));
    if (!parsed.success) throw new BackupFileError(`${file} has a manifest this Talon does not understand (${parsed.error.issues[0]?.path.join(".")})`);
    manifest = parsed.data;
    payloadStart = end + 1;
  } finally {
    await fh.close();
  }

  const ranges = new Map<string, { start: number; bytes: number }>();
  let offset = payloadStart;
  for (const part of manifest.parts) {
    ranges.set(part.name, { start: offset, bytes: part.bytes });
    offset += part.bytes;
  }
  if (offset !== size) throw new BackupFileError(`${file} is damaged: ${size} bytes, the manifest accounts for ${offset} (truncated or appended to)`);
  const partStream = (name: string) => {
    const r = ranges.get(name);
    if (!r) throw new BackupFileError(`${file} has no part ${name}`);
    // createReadStream's end is inclusive (parts are never empty).
    return createReadStream(file, { start: r.start, end: r.start + r.bytes - 1 });
  };
  for (const part of manifest.parts) {
    const hash = createHash("sha256");
    await pipeline(partStream(part.name), hash);
    if (hash.digest("hex") !== part.sha256) throw new BackupFileError(`${file} is damaged: part ${part.name} does not match its checksum`);
  }
  return { manifest, partStream };
}
