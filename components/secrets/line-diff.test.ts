import { describe, expect, it } from "vitest";
import { lineDiff } from "./line-diff";

describe("lineDiff", () => {
  it("keeps common lines and marks what changed", () => {
    expect(lineDiff("A=1\nB=2\nC=3", "A=1\nB=20\nC=3\nD=4")).toEqual([
      { kind: "same", text: "A=1" },
      { kind: "removed", text: "B=2" },
      { kind: "added", text: "B=20" },
      { kind: "same", text: "C=3" },
      { kind: "added", text: "D=4" },
    ]);
  });

  it("reports identical values as all same, and single-line changes as one removal and one addition", () => {
    expect(lineDiff("x\ny", "x\ny").every((l) => l.kind === "same")).toBe(true);
    expect(lineDiff("old", "new")).toEqual([
      { kind: "removed", text: "old" },
      { kind: "added", text: "new" },
    ]);
  });

  it("does not build the table past the line bound", () => {
    expect(lineDiff("a\nb\nc", "a\nb\nc", 2)).toHaveLength(6);
  });
});
