import type { ReactNode } from "react";

const FEATURES: { title: string; body: string }[] = [
  {
    title: "Keys stay in the HSM",
    body: "Master keys are generated inside a PKCS#11 token and cannot be extracted. Each vault has its own data key, and every secret version is sealed with AES-256-GCM and bound to its vault, path and version.",
  },
  {
    title: "Agents get exactly what they need",
    body: "Agents sign in with an API key, a client certificate or OIDC. Vault bindings, path policies, IP rules and time windows are checked on every request, and a revoked agent is locked out on its next call.",
  },
  {
    title: "Every access leaves a trace",
    body: "Reads, writes, shares and sign-ins are recorded in an append-only audit log, hash-chained per organisation so that any gap or edit is detectable.",
  },
];

const ENDPOINTS: { href: string; label: string; note: string }[] = [
  { href: "/v1/health", label: "/v1/health", note: "Service liveness" },
  { href: "/v1/health/hsm", label: "/v1/health/hsm", note: "Keystore provider and self-test" },
  { href: "/v1/openapi.json", label: "/v1/openapi.json", note: "OpenAPI 3.1 description of the API" },
];

const QUICKSTART = `# exchange an agent key for a short-lived token
TOKEN=$(curl -s -X POST "$TALON_URL/v1/auth/agent-token" \\
  -H 'Content-Type: application/json' \\
  -d '{"agent_id":"<agent-uuid>","api_key":"ocv_…"}' | jq -r .access_token)

# fetch a secret right before the call that needs it
curl -s -H "Authorization: Bearer $TOKEN" \\
  "$TALON_URL/v1/vaults/<vault-uuid>/secrets/api-keys/stripe"`;

function Card({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="rounded-xl border border-zinc-800 bg-zinc-900/60 p-6">
      <h3 className="text-base font-semibold text-zinc-50">{title}</h3>
      <p className="mt-2 text-sm leading-6 text-zinc-400">{children}</p>
    </div>
  );
}

export default function Home() {
  return (
    <main className="mx-auto flex max-w-5xl flex-col gap-16 px-6 py-16 sm:py-24">
      <header className="flex items-center gap-3">
        <svg viewBox="0 0 32 32" aria-hidden="true" className="h-9 w-9 text-amber-400">
          <path
            d="M6 26c2-9 7-16 16-20 1.5-.6 3 .8 2.3 2.3C20.8 15.6 16 21 8.6 27.2 7.4 28.2 5.7 27.5 6 26z"
            fill="currentColor"
          />
        </svg>
        <span className="text-xl font-semibold tracking-tight">Talon</span>
        <nav aria-label="Account" className="ml-auto flex items-center gap-2">
          <a href="/login" className="rounded-lg px-3 py-2 text-sm font-semibold text-zinc-200 hover:text-zinc-50">
            Sign in
          </a>
          <a href="/signup" className="rounded-lg bg-amber-400 px-3 py-2 text-sm font-semibold text-zinc-950 hover:bg-amber-300">
            Create account
          </a>
        </nav>
      </header>

      <section className="flex flex-col gap-6">
        <h1 className="max-w-3xl text-4xl font-semibold tracking-tight text-zinc-50 sm:text-5xl">
          Secrets for AI agents, sealed by your own HSM.
        </h1>
        <p className="max-w-2xl text-lg leading-8 text-zinc-400">
          Talon is a self-hosted secrets manager built for agents. Agents fetch API keys, passwords and signing keys at run
          time through a REST API, an MCP server and a CLI, so the values never pass through a model&apos;s context, and
          the keys that protect them never leave the hardware.
        </p>
        <div className="flex flex-wrap gap-3">
          <a
            href="/v1/health"
            className="rounded-lg bg-amber-400 px-4 py-2 text-sm font-semibold text-zinc-950 transition hover:bg-amber-300"
          >
            Check service health
          </a>
          <a
            href="/v1/openapi.json"
            className="rounded-lg border border-zinc-700 px-4 py-2 text-sm font-semibold text-zinc-100 transition hover:border-zinc-500"
          >
            API reference
          </a>
        </div>
      </section>

      <section className="grid gap-4 md:grid-cols-3">
        {FEATURES.map((f) => (
          <Card key={f.title} title={f.title}>
            {f.body}
          </Card>
        ))}
      </section>

      <section className="grid gap-8 md:grid-cols-5">
        <div className="min-w-0 md:col-span-2">
          <h2 className="text-lg font-semibold text-zinc-50">Endpoints</h2>
          <ul className="mt-4 flex flex-col gap-3">
            {ENDPOINTS.map((e) => (
              <li key={e.href}>
                <a href={e.href} className="font-mono text-sm text-amber-300 hover:underline">
                  {e.label}
                </a>
                <p className="text-sm text-zinc-500">{e.note}</p>
              </li>
            ))}
          </ul>
        </div>
        <div className="min-w-0 md:col-span-3">
          <h2 className="text-lg font-semibold text-zinc-50">From an agent</h2>
          <pre tabIndex={0} aria-label="Reading a secret as an agent" className="mt-4 overflow-x-auto rounded-xl border border-zinc-800 bg-zinc-900 p-4 font-mono text-xs leading-6 text-zinc-300">
            <code>{QUICKSTART}</code>
          </pre>
        </div>
      </section>

      <footer className="border-t border-zinc-900 pt-6 text-sm text-zinc-500">
        Talon speaks the same <span className="font-mono">/v1</span> API as its hosted counterparts: point an existing
        agent, SDK or MCP client at this server&apos;s URL.
      </footer>
    </main>
  );
}
