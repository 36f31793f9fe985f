import { readdirSync } from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { api, type App, PASSWORD, signedInUser } from "./harness";

/**
 * Every page of the app, enumerated from `app/` (so a page added later is visited without editing the
 * specs), and an org filled with real data through the API so those pages are not empty. Names are
 * 60 characters long, as people really name things, to catch layouts that break on them.
 */
const APP_DIR = path.join(import.meta.dirname, "..", "app");

export type PageRoute = {
  /** The route as written in `app/`, route groups dropped: `/vaults/[id]`. */
  pattern: string;
  /** `(dashboard)`, `(auth)`, `(share)` or "" for pages outside a group. */
  group: string;
};

export function appPages(): PageRoute[] {
  const found: PageRoute[] = [];
  const walk = (dir: string, segments: string[]) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(path.join(dir, entry.name), [...segments, entry.name]);
      else if (/^page\.(tsx|ts|jsx|js)$/.test(entry.name)) {
        const group = segments.find((s) => /^\(.+\)$/.test(s)) ?? "";
        const visible = segments.filter((s) => !/^\(.+\)$/.test(s) && !s.startsWith("@"));
        found.push({ pattern: `/${visible.join("/")}`, group });
      }
    }
  };
  walk(APP_DIR, []);
  return found.sort((a, b) => a.pattern.localeCompare(b.pattern));
}

/** A name of exactly `length` characters, unbroken by spaces, the worst case for a layout. */
export const longName = (prefix: string, length = 60) => `${prefix}-${"x".repeat(length)}`.slice(0, length - 4) + "-end";

export type SeededOrg = {
  email: string;
  token: string;
  vaultId: string;
  vaultName: string;
  secretPath: string;
  agentId: string;
  agentName: string;
  shareId: string;
};

async function ok(p: Promise<{ status: number; body: Record<string, unknown> }>, what: string): Promise<Record<string, unknown>> {
  const r = await p;
  if (r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Signs up through the pages (leaving `page` signed in on /vaults) and fills the org through the API. */
export async function seedOrg(page: Page, app: App): Promise<SeededOrg> {
  const user = await signedInUser(page, app);
  const token = (await ok(api(app, "POST", "/v1/auth/token", { body: { email: user.email, password: PASSWORD } }), "token")).access_token as string;
  const vaultName = longName("vault");
  const vaultId = (await ok(api(app, "POST", "/v1/vaults", { token, body: { name: vaultName, description: `The ${longName("description")} vault` } }), "vault")).id as string;
  // One secret at the top level and one in a 60-character folder, so both the folder list and the table render.
  const secretPath = longName("secret");
  const nested = `${longName("folder")}/${longName("nested")}`;
  for (const p of [secretPath, nested]) {
    await ok(api(app, "PUT", `/v1/vaults/${vaultId}/secrets/${p}`, { token, body: { value: `value-of-${p.length}`, metadata: { owner: longName("team") } } }), `secret ${p}`);
  }
  const secretId = (await ok(api(app, "GET", `/v1/vaults/${vaultId}/secrets/${secretPath}`, { token }), "read secret")).id as string;
  // A deleted one too, so "Recently deleted" lists a row.
  const deleted = `${longName("deleted")}`;
  await ok(api(app, "PUT", `/v1/vaults/${vaultId}/secrets/${deleted}`, { token, body: { value: "gone-soon" } }), "secret to delete");
  await ok(api(app, "DELETE", `/v1/vaults/${vaultId}/secrets/${deleted}`, { token }), "delete secret");
  const agentName = longName("agent");
  const agent = await ok(api(app, "POST", "/v1/agents", { token, body: { name: agentName, description: `Runs ${longName("job")} nightly` } }), "agent");
  const agentId = (agent.agent as { id: string }).id;
  await ok(
    api(app, "POST", `/v1/vaults/${vaultId}/policies`, { token, body: { principal_type: "agent", principal_id: agentId, secret_path_pattern: `${longName("folder")}/**` } }),
    "policy",
  );
  // A pending approval request, so the Approvals page lists one: the agent's read of a gated path.
  await ok(
    api(app, "POST", `/v1/vaults/${vaultId}/policies`, { token, body: { principal_type: "agent", principal_id: agentId, secret_path_pattern: secretPath, require_approval: true } }),
    "gated policy",
  );
  const agentToken = (await ok(api(app, "POST", "/v1/auth/agent-token", { body: { agent_id: agentId, api_key: agent.api_key } }), "agent token")).access_token as string;
  const asked = await api(app, "GET", `/v1/vaults/${vaultId}/secrets/${secretPath}`, { token: agentToken });
  if (asked.body.type !== "approval_required") throw new Error(`gated read: ${asked.status} ${JSON.stringify(asked.body)}`);
  const expires_at = new Date(Date.now() + 2 * 24 * 3600_000).toISOString();
  const shareId = (await ok(api(app, "POST", `/v1/secrets/${secretId}/share`, { token, body: { recipient_type: "anyone_with_link", expires_at, max_access_count: 3 } }), "share")).id as string;
  await ok(api(app, "POST", "/v1/auth/api-keys", { token, body: { name: longName("key") } }), "api key");
  await ok(api(app, "POST", "/v1/security/ip-rules", { token, body: { cidr: "203.0.113.0/24", rule_type: "deny", label: longName("rule") } }), "ip rule");
  // A binding with long names, so the vault page's Bindings card renders its table (at 375 px too).
  const binding = { name: longName("binding"), secret_path: secretPath, host: `${longName("api")}.example.com`, path_prefix: `/${longName("v1")}/`, inject: { kind: "header", header_name: "X-Api-Key" } };
  await ok(api(app, "POST", `/v1/vaults/${vaultId}/bindings`, { token, body: binding }), "binding");
  return { email: user.email, token, vaultId, vaultName, secretPath, agentId, agentName, shareId };
}

/** The ids that fill a route's dynamic segments, by the segment before them (`/vaults/[id]` → the vault). */
export function concretePath(route: PageRoute, org: SeededOrg): string {
  const ids: Record<string, string> = { vaults: org.vaultId, agents: org.agentId, s: org.shareId };
  const parts = route.pattern.split("/");
  return parts
    .map((seg, i) => {
      if (!seg.startsWith("[")) return seg;
      const id = ids[parts[i - 1] ?? ""];
      if (!id) throw new Error(`no seeded id for ${seg} in ${route.pattern}: add one in e2e/dashboard-pages.ts`);
      return id;
    })
    .join("/");
}
