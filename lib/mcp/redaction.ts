/**
 * Session redaction. Every secret value an MCP session has fetched (or written) is remembered in
 * memory, and any later tool output that would contain it — in text, in structured content, in an
 * object key, inside a longer string — shows `[REDACTED]` instead. Values shorter than
 * MIN_REDACTED_LENGTH are not remembered: replacing every "on" or "1" would mangle ordinary output
 * while hiding nothing worth hiding.
 */
export const REDACTED = "[REDACTED]";
export const MIN_REDACTED_LENGTH = 4;
/** From this many remembered values on, `text` first looks values up by their leading characters instead of searching for each. */
const INDEXED_FROM = 16;
const PAIR_BITS = 4096;
const pairHash = (s: string, i: number) => ((s.charCodeAt(i) << 5) ^ s.charCodeAt(i + 1)) & (PAIR_BITS - 1);

export class Redactor {
  private readonly values = new Set<string>();
  /** Longest first, so a value that contains another is replaced whole. Rebuilt lazily. */
  private ordered: string[] | null = null;
  /** The values by their first MIN_REDACTED_LENGTH characters: where a string holds none of those, no value can start. */
  private readonly byHead = new Map<string, string[]>();
  /** One bit per hash of a value's first two characters (PAIR_BITS of them): most positions are ruled out without a slice. */
  private readonly pairs = new Uint32Array(PAIR_BITS / 32);

  remember(value: string): void {
    if (typeof value !== "string" || value.length < MIN_REDACTED_LENGTH || this.values.has(value)) return;
    this.values.add(value);
    const head = value.slice(0, MIN_REDACTED_LENGTH);
    const same = this.byHead.get(head);
    if (same) same.push(value);
    else this.byHead.set(head, [value]);
    const h = pairHash(value, 0);
    this.pairs[h >>> 5]! |= 1 << (h & 31);
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
    // A long session remembers many values and most strings contain none of them, which one pass over
    // the string shows; a string that contains one is replaced below as always.
    if (this.values.size >= INDEXED_FROM && !this.containsAny(s)) return s;
    this.ordered ??= [...this.values].sort((a, b) => b.length - a.length);
    let out = s;
    for (const v of this.ordered) if (out.includes(v)) out = out.split(v).join(REDACTED);
    return out;
  }

  /**
   * Whether any remembered value occurs in `s`: at each position whose two characters begin some value
   * (by their hash: a collision only costs a lookup), only the values starting with the characters there.
   */
  private containsAny(s: string): boolean {
    for (let i = 0, end = s.length - MIN_REDACTED_LENGTH; i <= end; i++) {
      const h = pairHash(s, i);
      if ((this.pairs[h >>> 5]! & (1 << (h & 31))) === 0) continue;
      const candidates = this.byHead.get(s.slice(i, i + MIN_REDACTED_LENGTH));
      if (candidates) for (const v of candidates) if (s.startsWith(v, i)) return true;
    }
    return false;
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
