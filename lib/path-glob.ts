/**
 * Secret-path globs for policies: patterns and paths split on `/`; `*` matches exactly one segment
 * (or part of one, e.g. `stripe-*`), `**` matches any number of segments (including none).
 * `api-keys/*` allows `api-keys/stripe` but not `api-keys/a/b`.
 */
export const PATH_PATTERN_MAX = 512;
const SEGMENT_RE = /^[a-zA-Z0-9_\-*]+$/;

export function pathPatternProblem(pattern: string): string | null {
  if (pattern.length === 0) return "must not be empty";
  if (pattern.length > PATH_PATTERN_MAX) return `must be at most ${PATH_PATTERN_MAX} characters`;
  for (const seg of pattern.split("/")) {
    if (seg === "") return "must not contain empty segments";
    if (!SEGMENT_RE.test(seg)) return "segments may contain only letters, digits, '_', '-' and '*'";
    if (seg.includes("**") && seg !== "**") return "'**' must be a whole segment";
  }
  return null;
}

/**
 * A pattern's segments as matching needs them: `*` and `**` as themselves, a segment with a `*` inside
 * (`stripe-*`) as its RegExp, any other as the literal it must equal. Policies are matched on every
 * request, so each pattern is split and its RegExps built once (bounded: past COMPILED_MAX patterns the
 * memo starts over).
 */
type Segment = string | RegExp;
const COMPILED_MAX = 10_000;
const compiled = new Map<string, readonly Segment[]>();

function compileSegment(seg: string): Segment {
  if (seg === "*" || seg === "**" || !seg.includes("*")) return seg;
  return new RegExp("^" + seg.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\-]/g, "\\$&")).join("[^/]*") + "$");
}

function segmentsOf(pattern: string): readonly Segment[] {
  let segs = compiled.get(pattern);
  if (segs === undefined) {
    if (compiled.size >= COMPILED_MAX) compiled.clear();
    segs = pattern.split("/").map(compileSegment);
    compiled.set(pattern, segs);
  }
  return segs;
}

const segmentMatches = (pattern: Segment, segment: string): boolean =>
  pattern === "*" || (typeof pattern === "string" ? pattern === segment : pattern.test(segment));

export function matchPathPattern(pattern: string, path: string): boolean {
  const pat = segmentsOf(pattern);
  const segs = path.split("/");
  // Iterative matcher with backtracking on the last `**` seen (linear-ish, no exponential blow-up).
  let p = 0;
  let s = 0;
  let starP = -1;
  let starS = -1;
  while (s < segs.length) {
    if (p < pat.length && pat[p] === "**") {
      starP = p++;
      starS = s;
    } else if (p < pat.length && segmentMatches(pat[p]!, segs[s]!)) {
      p++;
      s++;
    } else if (starP >= 0) {
      p = starP + 1;
      s = ++starS;
    } else {
      return false;
    }
  }
  while (p < pat.length && pat[p] === "**") p++;
  return p === pat.length;
}

/**
 * Whether some path matched by `pattern` could start with `prefix` — used to decide if a listing
 * under a prefix can contain anything the caller may read.
 */
export function patternCouldMatchUnder(pattern: string, prefix: string): boolean {
  if (prefix === "") return true;
  const pat = segmentsOf(pattern);
  const pre = prefix.replace(/\/$/, "").split("/");
  for (let i = 0; i < pre.length; i++) {
    const seg = pat[i];
    if (seg === undefined) return false;
    if (seg === "**") return true;
    const last = i === pre.length - 1 && !prefix.endsWith("/");
    if (last) return typeof seg !== "string" || seg === "*" || seg.startsWith(pre[i]!);
    if (!segmentMatches(seg, pre[i]!)) return false;
  }
  return true;
}
