import { describe, expect, it } from "vitest";
import { envKeyForPath, formatDotenv, parseDotenv } from "./env-file";

describe(".env parsing and formatting", () => {
  it("reads dotenv's conventions: export, comments, both quotes, escapes, multi-line values", () => {
    const text = [
      "# comment",
      "",
      "export DATABASE_URL=postgres://u:p@h/db",
      "PLAIN=abc # trailing comment",
      "HASH=abc#not-a-comment",
      "SINGLE='lit\\n $x'",
      'DOUBLE="a\\nb \\"q\\" \\\\ end" # note',
      'MULTI="line1',
      'line2"',
      "EMPTY=",
      "SPACED = value ",
    ].join("\r\n");
    const { entries, errors } = parseDotenv(text);
    expect(errors).toEqual([]);
    expect(Object.fromEntries(entries.map((e) => [e.key, e.value]))).toEqual({
      DATABASE_URL: "postgres://u:p@h/db",
      PLAIN: "abc",
      HASH: "abc#not-a-comment",
      SINGLE: "lit\\n $x",
      DOUBLE: 'a\nb "q" \\ end',
      MULTI: "line1\nline2",
      EMPTY: "",
      SPACED: "value",
    });
    expect(entries.find((e) => e.key === "SPACED")!.line).toBe(11);
  });

  it("names bad lines by number, never by content", () => {
    const { entries, errors } = parseDotenv("OK=1\nnot an assignment secret-canary\n1BAD=x\nOK=2\nQ=\"open secret-canary");
    expect(entries.map((e) => e.key)).toEqual(["OK"]);
    expect(errors.map((e) => e.line)).toEqual([2, 3, 4, 5]);
    expect(JSON.stringify(errors)).not.toContain("secret-canary");
  });

  it("formats values so that they parse back unchanged", () => {
    const vars = [
      { key: "A", value: "plain-value_1.2:3/4@5" },
      { key: "B", value: "with space and # hash" },
      { key: "C", value: "-----BEGIN KEY-----\nabc\n-----END KEY-----\n" },
      { key: "D", value: 'quote " and \\ backslash\tand tab' },
      { key: "E", value: "'single'" },
      { key: "F", value: "" },
    ];
    const text = formatDotenv(vars);
    expect(text.split("\n")).toHaveLength(vars.length + 1);
    expect(parseDotenv(text)).toEqual({ entries: vars.map((v, i) => ({ ...v, line: i + 1 })), errors: [] });
  });

  it("turns folder-relative paths into variable names", () => {
    expect(envKeyForPath("db/password")).toBe("db_password");
    expect(envKeyForPath("STRIPE-KEY")).toBe("STRIPE_KEY");
    expect(envKeyForPath("1st/key")).toBeNull();
  });
});
