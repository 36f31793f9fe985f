import { describe, expect, it } from "vitest";
import { breadcrumbs, folderPrefix, parentPrefix, treeLevel } from "./secret-tree";

const paths = ["api-keys/openai", "api-keys/stripe/live", "api-keys/stripe/test", "db", "db/main", "root-token"].map((path) => ({ path }));

describe("folderPrefix", () => {
  it("makes a folder prefix of the search parameter", () => {
    expect(folderPrefix(undefined)).toBe("");
    expect(folderPrefix("")).toBe("");
    expect(folderPrefix("api-keys")).toBe("api-keys/");
    expect(folderPrefix("api-keys/stripe/")).toBe("api-keys/stripe/");
    expect(folderPrefix("/api-keys//stripe")).toBe("api-keys/stripe/");
  });

  it("falls back to the root for anything that is not a valid prefix", () => {
    expect(folderPrefix(["a", "b"])).toBe("");
    expect(folderPrefix("a b")).toBe("");
    expect(folderPrefix("../etc")).toBe("");
    expect(folderPrefix("x".repeat(600))).toBe("");
  });
});

describe("treeLevel", () => {
  it("splits the root into folders (with counts) and the secrets directly in it", () => {
    const level = treeLevel(paths, "");
    expect(level.folders).toEqual([
      { name: "api-keys", prefix: "api-keys/", count: 3 },
      { name: "db", prefix: "db/", count: 1 },
    ]);
    expect(level.secrets.map((s) => s.path)).toEqual(["db", "root-token"]);
  });

  it("narrows to a folder", () => {
    const level = treeLevel(paths, "api-keys/");
    expect(level.folders).toEqual([{ name: "stripe", prefix: "api-keys/stripe/", count: 2 }]);
    expect(level.secrets.map((s) => s.path)).toEqual(["api-keys/openai"]);
    expect(treeLevel(paths, "api-keys/stripe/").secrets.map((s) => s.path)).toEqual(["api-keys/stripe/live", "api-keys/stripe/test"]);
  });

  it("ignores paths outside the prefix", () => {
    expect(treeLevel(paths, "nope/")).toEqual({ prefix: "nope/", folders: [], secrets: [] });
  });
});

describe("breadcrumbs", () => {
  it("lists each folder from the root down", () => {
    expect(breadcrumbs("")).toEqual([]);
    expect(breadcrumbs("a/b/").map((c) => [c.name, c.prefix])).toEqual([
      ["a", "a/"],
      ["b", "a/b/"],
    ]);
  });
});

describe("parentPrefix", () => {
  it("is the folder a path sits in", () => {
    expect(parentPrefix("db")).toBe("");
    expect(parentPrefix("api-keys/stripe/live")).toBe("api-keys/stripe/");
  });
});
