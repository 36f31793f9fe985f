import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sha256 } from "./digest";

describe("sha256", () => {
  it("is SHA-256 in each encoding, for strings (UTF-8) and bytes", () => {
    expect(sha256("abc", "hex")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(sha256(Buffer.from("abc"), "base64")).toBe("ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
    for (const s of ["", "é ✓ 𝄞", "x".repeat(10_000)]) {
      for (const enc of ["hex", "base64", "base64url"] as const) expect(sha256(s, enc)).toBe(createHash("sha256").update(s).digest(enc));
    }
  });

  it("gives the 32 raw bytes when no encoding is asked for", () => {
    const raw = sha256("abc");
    expect(Buffer.isBuffer(raw)).toBe(true);
    expect(raw.toString("hex")).toBe(sha256("abc", "hex"));
    expect(sha256(Buffer.from("é ✓ 𝄞")).equals(createHash("sha256").update("é ✓ 𝄞").digest())).toBe(true);
  });
});
