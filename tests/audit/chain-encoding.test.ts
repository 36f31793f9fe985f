import { describe, expect, it } from "vitest";
import { type AuditRowInput, canonicalEncoding, chainOnto, encodingAround, eventHash, GENESIS_HASH, hashFromAround } from "../../server/audit/chain";

/**
 * The chain's canonical encoding is version 1 for every event ever stored: verifying an old chain needs
 * exactly the same bytes. It is built from two fixed parts around seq and prevHash (so PostgreSQL can
 * chain events by concatenation, talon_audit_chain); this pins it to the JSON array it has always been.
 */
const reference = (r: AuditRowInput & { seq: number; prevHash: string }) =>
  JSON.stringify([1, r.id, r.orgId, r.seq, r.action, r.actorId, r.actorType, r.resourceType, r.resourceId, r.details, r.ipAddress, r.requestId, r.createdAt.getTime(), r.prevHash]);

const row = (over: Partial<AuditRowInput> = {}): AuditRowInput => ({
  id: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
  orgId: "org_1",
  actorId: "agent:abc",
  actorType: "agent",
  action: "secret.read",
  resourceType: "secret",
  resourceId: "sec_1",
  details: JSON.stringify({ path: "a/b", version: 3 }),
  ipAddress: "203.0.113.7",
  requestId: "req_1",
  createdAt: new Date(Date.UTC(2026, 11, 5, 15, 0, 0, 123)),
  ...over,
});

describe("audit chain encoding", () => {
  it("is the version-1 JSON array, whatever the strings hold", () => {
    const tricky = ['"', "\\", "\n\t\r", "\u0000\u0001\u001f", "ünïcödé", "🙂", "\ud800", "</script>", "", "x".repeat(1000)];
    for (const t of tricky) {
      for (const field of ["id", "orgId", "actorId", "action", "resourceType", "resourceId", "details", "ipAddress", "requestId"] as const) {
        const r = { ...row({ [field]: t }), seq: 42, prevHash: "ab".repeat(32) };
        expect(canonicalEncoding(r)).toBe(reference(r));
      }
    }
    const first = { ...row({ orgId: "" }), seq: 1, prevHash: GENESIS_HASH };
    expect(canonicalEncoding(first)).toBe(reference(first));
  });

  it("splits around seq and prevHash only: the parts do not depend on the chain", () => {
    const r = row();
    const [before, between] = encodingAround(r);
    expect(before).toBe(`[1,${JSON.stringify(r.id)},"org_1",`);
    expect(between.startsWith(',"secret.read",')).toBe(true);
    expect(between.endsWith(`,${r.createdAt.getTime()},`)).toBe(true);
    expect(`${before}7${between}"${"cd".repeat(32)}"]`).toBe(canonicalEncoding({ ...r, seq: 7, prevHash: "cd".repeat(32) }));
    // A known hash: a change of the encoding would break every stored chain.
    expect(eventHash({ ...r, seq: 1, prevHash: GENESIS_HASH })).toBe("1821fa5ae1da001e4cfab379582b5d2423f48b7f08cde7a1df5839627d0adb0c");
    // From the parts (how the PostgreSQL write batch checks what the database chained), the same hash.
    expect(hashFromAround(encodingAround(r), 1, GENESIS_HASH)).toBe("1821fa5ae1da001e4cfab379582b5d2423f48b7f08cde7a1df5839627d0adb0c");
    for (const t of ['"', "\\", "\n", "🙂", "\ud800", ""]) {
      const odd = row({ details: t, requestId: t });
      expect(hashFromAround(encodingAround(odd), 9, "ab".repeat(32))).toBe(eventHash({ ...odd, seq: 9, prevHash: "ab".repeat(32) }));
      expect(hashFromAround(encodingAround(odd), 9, "ab".repeat(32))).not.toBe(eventHash({ ...odd, seq: 10, prevHash: "ab".repeat(32) }));
    }
  });

  it("chains each org's events onto its head, each row the event's columns and nothing else", () => {
    const a1 = row({ id: "a1" });
    const b1 = { ...row({ id: "b1", orgId: "org_2" }), secretValue: "must not be stored" };
    const a2 = row({ id: "a2", action: "secret.write" });
    const heads = new Map([
      ["org_1", { seq: 41, hash: "ef".repeat(32) }],
      ["org_2", null],
    ]);
    const chained = chainOnto([a1, b1, a2], ["org_1", "org_2"], heads);
    expect(chained.map((r) => [r.id, r.seq])).toEqual([["a1", 42], ["a2", 43], ["b1", 1]]);
    expect(chained[0]!.prevHash).toBe("ef".repeat(32));
    expect(chained[1]!.prevHash).toBe(chained[0]!.hash);
    expect(chained[2]!.prevHash).toBe(GENESIS_HASH);
    for (const r of chained) {
      expect(r.hash).toBe(eventHash(r));
      expect(Object.keys(r).sort()).toEqual([...Object.keys(a1), "seq", "prevHash", "hash"].sort());
    }
    expect(chained[0]).toEqual({ ...a1, seq: 42, prevHash: "ef".repeat(32), hash: chained[0]!.hash });
  });
});
