/**
 * The redaction canary: a value the session has fetched never reappears in another tool's output,
 * through either transport. Each check has its control: before the fetch, the same tool shows the
 * canary (so the later absence is redaction, not a tool that never returns it).
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { MIN_REDACTED_LENGTH, REDACTED, Redactor } from "../../lib/mcp/redaction";
import { startTestServer, type TestServer } from "../helpers/server";
import { agentWithVault, call, connectHttp, connectStdio, NO_LIMITS } from "./helpers";

/** The replacement Redactor always made: every distinct value, longest first, on the result so far. */
const plainRedaction = (values: string[], s: string) =>
  [...new Set(values)].sort((a, b) => b.length - a.length).reduce((out, v) => out.split(v).join(REDACTED), s);

describe("Redactor", () => {
  test("replaces remembered values anywhere, keys included, longest first; short values are left alone", () => {
    const r = new Redactor();
    r.remember("abc"); // shorter than MIN_REDACTED_LENGTH
    r.remember("secret");
    r.remember("secret-extended");
    expect(MIN_REDACTED_LENGTH).toBe(4);
    expect(r.text("abc and secret-extended and xsecretx")).toBe(`abc and ${REDACTED} and x${REDACTED}x`);
    expect(r.deep({ list: ["secret"], secret: { n: 1, s: "a secret b" } })).toEqual({ list: [REDACTED], [REDACTED]: { n: 1, s: `a ${REDACTED} b` } });
    r.rememberWithLines("LINE_ONE=value-one\nLINE_TWO=value-two");
    expect(r.text("got LINE_TWO=value-two")).toBe(`got ${REDACTED}`);
  });

  test("with many values remembered (the indexed lookup), the output is exactly the plain replacement's", () => {
    const values = ["secret", "secret-extended", "secr", "cret-ext", "value-a/1-xxxx", "value-a/10-xxxx", "tail"];
    for (let i = 0; i < 40; i++) values.push(`value-p${i}-${"x".repeat(i % 5)}`);
    const r = new Redactor();
    for (const v of values) r.remember(v);
    const plain = (s: string) => plainRedaction(values, s);
    const inputs = [
      "nothing here",
      "secre",
      "a secret-extended secret",
      "xsecretx and value-a/10-xxxx, value-a/1-xxxx.",
      "ends with tail",
      "value-p17-xx value-p3 value-p39-xxxx",
      "sec" + "ret",
      "",
    ];
    for (const s of inputs) expect(r.text(s)).toBe(plain(s));
    expect(r.text("nothing here")).toBe("nothing here");
    expect(r.deep({ secret: ["tail end", { k: "value-p5-" }], n: 3 })).toEqual({ [REDACTED]: [`${REDACTED} end`, { k: REDACTED }], n: 3 });
  });

  test("with hundreds of random values, any text is redacted exactly as the plain replacement does", () => {
    // A fixed generator, so a failure can be replayed; the alphabet mixes ASCII, accents and a surrogate pair.
    let seed = 12345;
    const next = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const alphabet = ["a", "b", "c", "x", "Z", "0", "9", "-", "_", "/", "é", "✓", "\u{1D11E}", " ", "="];
    const word = (len: number) => Array.from({ length: len }, () => alphabet[next(alphabet.length)]).join("");
    const values = Array.from({ length: 300 }, () => word(4 + next(10)));
    const r = new Redactor();
    for (const v of values) r.remember(v);
    const plain = (s: string) => plainRedaction(values, s);
    let redacted = 0;
    for (let i = 0; i < 400; i++) {
      const parts = Array.from({ length: 1 + next(6) }, () => (next(4) === 0 ? values[next(values.length)]! : word(next(12))));
      const s = parts.join(next(2) ? "" : " ");
      const want = plain(s);
      if (want !== s) redacted++;
      expect(r.text(s)).toBe(want);
    }
    // Both kinds were met: strings with a value in them and strings without.
    expect(redacted).toBeGreaterThan(50);
    expect(redacted).toBeLessThan(400);
  });
});

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: NO_LIMITS });
});
afterAll(async () => server?.close());

describe.each(["stdio", "http"] as const)("canary over %s", (transport) => {
  test("a fetched value shows as [REDACTED] in every later tool's output", async () => {
    const w = await agentWithVault(server);
    const canary = `canary-${randomBytes(12).toString("hex")}`;
    const bundled = `bundled-${randomBytes(8).toString("hex")}`;
    // Planted by the human, so the MCP session learns the values only by fetching them.
    const plant = async (path: string, body: Record<string, unknown>) => expect((await w.api.put(`/v1/vaults/${w.vaultId}/secrets/${path}`, body)).status).toBe(201);
    await plant("canary/key", { value: canary, type: "api_key" });
    await plant("notes/copy", { value: "unrelated", type: "note", metadata: { note: `copied from ${canary}`, [canary]: "as a key" } });
    await plant("env/bundle", { value: `TOKEN=${bundled}\nMODE=prod`, type: "env_bundle" });
    await plant("notes/bundle-copy", { value: "unrelated2", type: "note", metadata: { leaked: bundled } });

    const mcp =
      transport === "stdio"
        ? await connectStdio({ ONECLAW_AGENT_ID: w.agentId, ONECLAW_AGENT_API_KEY: w.apiKey, ONECLAW_VAULT_ID: w.vaultId, ONECLAW_BASE_URL: server.url })
        : await connectHttp(server.url, { Authorization: `Bearer ${w.apiKey}`, "X-Vault-ID": w.vaultId });
    try {
      const shows = (r: { text: string; data: unknown }, s: string) => r.text.includes(s) || JSON.stringify(r.data).includes(s);
      // Controls: before anything was fetched, the metadata shows the values.
      expect(shows(await call(mcp.client, "list_secrets"), canary)).toBe(true);
      expect(shows(await call(mcp.client, "describe_secret", { path: "notes/bundle-copy" }), bundled)).toBe(true);

      const got = await call(mcp.client, "get_secret", { path: "canary/key" });
      expect(got.data.value).toBe(canary);
      const env = await call(mcp.client, "get_env_bundle", { path: "env/bundle" });
      expect(env.data.env).toEqual({ TOKEN: bundled, MODE: "prod" });

      const later = [
        await call(mcp.client, "list_secrets"),
        await call(mcp.client, "describe_secret", { path: "notes/copy" }),
        await call(mcp.client, "list_versions", { path: "notes/copy" }),
        await call(mcp.client, "describe_secret", { path: "notes/bundle-copy" }),
        await call(mcp.client, "put_secret", { path: "notes/agent", value: "agent-note", metadata: { source: canary, other: `x${bundled}y` } }),
        await call(mcp.client, "rotate_and_store", { path: "notes/copy", value: "rotated-note" }),
        // Another secret's get_secret: its value in full, its (rotation-kept) metadata redacted.
        await call(mcp.client, "get_secret", { path: "notes/copy" }),
      ];
      for (const r of later) {
        expect(r.isError).toBe(false);
        expect(shows(r, canary)).toBe(false);
        expect(shows(r, bundled)).toBe(false);
      }
      expect(shows(later[0]!, REDACTED)).toBe(true);
      expect(later[1]!.data.metadata).toEqual({ note: `copied from ${REDACTED}`, [REDACTED]: "as a key" });
      expect(later[3]!.data.metadata).toEqual({ leaked: REDACTED });
      expect(later[4]!.data.metadata).toEqual({ source: REDACTED, other: `x${REDACTED}y` });
      // The stored metadata itself is intact: redaction is of the output only.
      const stored = await w.api.get(`/v1/vaults/${w.vaultId}/secret-versions/notes/agent`);
      expect(stored.body.versions[0].metadata).toEqual({ source: canary, other: `x${bundled}y` });
      // The session's own get_secret still returns a value in full, even one containing the canary.
      await w.api.put(`/v1/vaults/${w.vaultId}/secrets/canary/wrapper`, { value: `prefix-${canary}`, type: "note" });
      expect((await call(mcp.client, "get_secret", { path: "canary/wrapper" })).data.value).toBe(`prefix-${canary}`);
      expect(mcp.stderr()).not.toContain(canary);
    } finally {
      await mcp.close();
    }
  }, 120_000);
});
