/**
 * Session redaction. Every secret value an MCP session has fetched (or written) is remembered in
 * memory, and any later tool output that would contain it — in text, in structured content, in an
 * object key, inside a longer string — shows `[REDACTED]` instead. Values shorter than
 * MIN_REDACTED_LENGTH are not remembered: replacing every "on" or "1" would mangle ordinary output
 * while hiding nothing worth hiding.
 */
export const REDACTED = "[REDACTED]";
export const MIN_REDACTED_LENGTH = 4;

export class Redactor {
  private readonly values = new Set<string>();
  /** Longest first, so a value that contains another is replaced whole. Rebuilt lazily. */
  private ordered: string[] | null = null;

  remember(value: string): void {
    if (typeof value !== "string" || value.length < MIN_REDACTED_LENGTH || this.values.has(value)) return;
    this.values.add(value);
    this.ordered = null;
  }

  /** A multi-line value (an env bundle, a PEM) is also remembered line by line, so a fragment of it is caught too. */
  rememberWithLines(value: string): void {
    this.remember(value);
    for (const line of value.split(/\r?\n/)) this.remember(line.trim());
  }

  get size(): number {
    return this.values.size;
  }

  text(s: string): string {
    if (this.values.size === 0 || s.length < MIN_REDACTED_LENGTH) return s;
    this.ordered ??= [...this.values].sort((a, b) => b.length - a.length);
    let out = s;
    for (const v of this.ordered) if (out.includes(v)) out = out.split(v).join(REDACTED);
    return out;
  }

  /** A deep copy of `data` with every string (values and keys) redacted. */
  deep<T>(data: T): T {
    return this.walk(data) as T;
  }

  private walk(v: unknown): unknown {
    if (typeof v === "string") return this.text(v);
    if (Array.isArray(v)) return v.map((x) => this.walk(x));
    if (v && typeof v === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[this.text(k)] = this.walk(x);
      return out;
    }
    return v;
  }
}
