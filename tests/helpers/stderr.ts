/** What a test has seen on process.stderr (where the in-process server logs) since captureStderr(). */
export type StderrCapture = { text(): string; restore(): void };

/**
 * Records every write to process.stderr, still passing it through, until restore(): the log canary
 * checks (no secret, key or token in any log line) read text().
 */
export function captureStderr(): StderrCapture {
  const chunks: string[] = [];
  const original = process.stderr.write;
  const passThrough = original.bind(process.stderr) as (chunk: unknown, ...rest: unknown[]) => boolean;
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    chunks.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
    return passThrough(chunk, ...rest);
  }) as typeof process.stderr.write;
  return {
    text: () => chunks.join(""),
    restore: () => {
      process.stderr.write = original;
    },
  };
}
