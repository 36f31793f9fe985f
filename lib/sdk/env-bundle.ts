/**
 * `env_bundle` values: `KEY=VALUE` lines. Blank lines and `#` comments are skipped; an optional
 * `export ` prefix is allowed; a value wrapped in matching single or double quotes loses them.
 * Shared by `talon run` and the MCP `get_env_bundle` tool, so both read a bundle the same way.
 * Errors name the line number, never its content (it may hold a value).
 */
export const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export type EnvBundleResult = { ok: true; vars: Record<string, string> } | { ok: false; error: string };

export function parseEnvBundle(text: string): EnvBundleResult {
  const vars: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, "");
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const eq = line.indexOf("=");
    if (eq < 0) return { ok: false, error: `line ${i + 1}: expected KEY=VALUE` };
    const key = line.slice(0, eq).trim().replace(/^export\s+/, "");
    if (!ENV_NAME_RE.test(key)) return { ok: false, error: `line ${i + 1}: invalid variable name (letters, digits and _, not starting with a digit)` };
    let value = line.slice(eq + 1);
    const q = value.trim();
    if (q.length >= 2 && (q[0] === '"' || q[0] === "'") && q.endsWith(q[0]!)) value = q.slice(1, -1);
    vars[key] = value;
  }
  return { ok: true, vars };
}
