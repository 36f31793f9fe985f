export function watchTestFiles(
  dir: string,
  opts: { limitMs: number; root: string; log?: (report: string) => void; everyMs?: number },
): () => string[];
