import { ENV_NAME_RE } from "./sdk/env-bundle";

/**
 * `.env` files as people have them (dotenv's conventions): `KEY=value`, an optional `export `, `#`
 * comments (also after an unquoted value, when a space precedes the `#`), single quotes taken
 * literally, double quotes with `\n \r \t \" \\` escapes and spanning lines. Used by the dashboard's
 * import (preview before anything is written) and export, so a folder exported and imported again
 * comes back unchanged. Errors name the line, never its content (it may hold a value).
 */
export type EnvEntry = { key: string; value: string; line: number };
export type EnvParseResult = { entries: EnvEntry[]; errors: { line: number; message: string }[] };

const ASSIGNMENT = /^\s*(?:export\s+)?([^=\s]+)\s*=[ \t]*(.*)$/;
const ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t", '"': '"', "\\": "\\" };

/** The double-quoted value starting at `text[0] === '"'`: its value and what follows its closing quote, or null if unterminated. */
function readDoubleQuoted(text: string): { value: string; rest: string } | null {
  let value = "";
  for (let i = 1; i < text.length; i++) {
    const c = text[i]!;
    if (c === "\\" && i + 1 < text.length) {
      const next = text[i + 1]!;
      value += ESCAPES[next] ?? `\\${next}`;
      i++;
    } else if (c === '"') {
      return { value, rest: text.slice(i + 1) };
    } else {
      value += c;
    }
  }
  return null;
}

export function parseDotenv(text: string): EnvParseResult {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const entries: EnvEntry[] = [];
  const errors: EnvParseResult["errors"] = [];
  const seen = new Map<string, number>();
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i]!;
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const m = ASSIGNMENT.exec(line);
    if (!m) {
      errors.push({ line: lineNo, message: "expected KEY=VALUE" });
      continue;
    }
    const key = m[1]!;
    let raw = m[2]!;
    let value: string;
    if (raw.startsWith('"')) {
      // A double-quoted value may run over several lines: join until its closing quote.
      let end = i;
      let read = readDoubleQuoted(raw);
      while (!read && end + 1 < lines.length) {
        end++;
        raw += `\n${lines[end]}`;
        read = readDoubleQuoted(raw);
      }
      if (!read) {
        errors.push({ line: lineNo, message: "unterminated double quote" });
        break;
      }
      i = end;
      if (read.rest.trim() !== "" && !read.rest.trim().startsWith("#")) {
        errors.push({ line: lineNo, message: "unexpected text after the closing quote" });
        continue;
      }
      value = read.value;
    } else if (raw.startsWith("'")) {
      const close = raw.indexOf("'", 1);
      if (close < 0) {
        errors.push({ line: lineNo, message: "unterminated single quote" });
        continue;
      }
      const rest = raw.slice(close + 1).trim();
      if (rest !== "" && !rest.startsWith("#")) {
        errors.push({ line: lineNo, message: "unexpected text after the closing quote" });
        continue;
      }
      value = raw.slice(1, close);
    } else {
      value = raw.replace(/\s+#.*$/, "").trimEnd();
    }
    if (!ENV_NAME_RE.test(key)) {
      errors.push({ line: lineNo, message: "invalid variable name (letters, digits and _, not starting with a digit)" });
      continue;
    }
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      errors.push({ line: lineNo, message: `${key} is already set on line ${earlier}` });
      continue;
    }
    seen.set(key, lineNo);
    entries.push({ key, value, line: lineNo });
  }
  return { entries, errors };
}

const PLAIN_VALUE = /^[A-Za-z0-9_\-.,:/@+=%~^]*$/;

/** One `KEY=value` line; anything beyond plain characters is double-quoted with escapes, so it parses back as is. */
export function formatDotenvLine(key: string, value: string): string {
  if (PLAIN_VALUE.test(value)) return `${key}=${value}`;
  const escaped = value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n").replace(/\r/g, "\\r").replace(/\t/g, "\\t");
  return `${key}="${escaped}"`;
}

export function formatDotenv(entries: { key: string; value: string }[]): string {
  return entries.map((e) => `${formatDotenvLine(e.key, e.value)}\n`).join("");
}

/**
 * The variable name a secret path (relative to the exported folder) becomes: `/`, `-` and `.` turn
 * into `_`; null when the result is still not a variable name (e.g. it starts with a digit).
 */
export function envKeyForPath(relativePath: string): string | null {
  const key = relativePath.replace(/[/\-.]/g, "_");
  return ENV_NAME_RE.test(key) ? key : null;
}
