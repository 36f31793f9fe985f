import Link from "next/link";
import type { ReactNode } from "react";
import { CopyButton } from "@/components/ui/copy-button";
import { Card } from "@/components/ui/layout";
import type { OnboardingSteps } from "@/lib/dashboard/onboarding";


/** The curl an agent runs to prove it can read: its key from the environment, never on the page. */
export function agentReadCurl(publicUrl: string, agentId: string, secret: { vaultId: string; path: string }): string {
  return `TOKEN=$(curl -s -X POST "${publicUrl}/v1/auth/agent-token" \\
  -H 'Content-Type: application/json' \\
  -d "{\\"agent_id\\":\\"${agentId}\\",\\"api_key\\":\\"$TALON_AGENT_KEY\\"}" | jq -r .access_token)
curl -s -H "Authorization: Bearer $TOKEN" \\
  "${publicUrl}/v1/vaults/${secret.vaultId}/secrets/${secret.path}"`;
}

function Step({ done, title, children }: { done: boolean; title: string; children: ReactNode }) {
  return (
    <li className="flex gap-3" data-testid="onboarding-step" data-done={done}>
      <span
        aria-hidden="true"
        className={`mt-0.5 flex h-5 w-5 shrink-0 items-center justify-center rounded-full border text-xs ${done ? "border-emerald-400 bg-emerald-400/15 text-emerald-300" : "border-zinc-600 text-transparent"}`}
      >
        ✓
      </span>
      <div className="min-w-0 flex-1">
        <p className={`text-sm font-medium ${done ? "text-zinc-400 line-through" : "text-zinc-100"}`}>
          {title}
          <span className="sr-only">{done ? " (done)" : " (to do)"}</span>
        </p>
        {!done && <div className="mt-1 text-sm text-zinc-400">{children}</div>}
      </div>
    </li>
  );
}

const linkClass = "text-amber-300 underline-offset-2 hover:underline";

/** First run: vault → secret → agent → policy → the agent's first read, each ticked from real state. */
export function OnboardingChecklist({ steps, publicUrl }: { steps: OnboardingSteps; publicUrl: string }) {
  const vaultHref = steps.vaultId ? `/vaults/${steps.vaultId}` : null;
  return (
    <Card title="Get started" description="Five steps from an empty org to an agent reading its first secret. Each is ticked when it has happened.">
      <ol className="flex flex-col gap-4" aria-label="Getting started">
        <Step done={steps.vaultId !== null} title="Create a vault">
          Use Create vault on this page; each vault has its own HSM-wrapped key.
        </Step>
        <Step done={steps.secret !== null} title="Store a secret">
          {vaultHref ? (
            <>
              Open <Link className={linkClass} href={vaultHref}>your vault</Link> and use New secret.
            </>
          ) : (
            "Once you have a vault, open it and use New secret."
          )}
        </Step>
        <Step done={steps.agentId !== null} title="Register an agent">
          On <Link className={linkClass} href="/agents">Agents</Link>: its key and a ready MCP configuration are shown once.
        </Step>
        <Step done={steps.policy} title="Let the agent read">
          On <Link className={linkClass} href="/policies">Policies</Link>, grant the agent read access to a path in the vault.
        </Step>
        <Step done={steps.agentRead} title="Prove it: the agent reads the secret">
          {steps.agentId && steps.secret ? (
            <div className="flex flex-col gap-2">
              <p>With the agent&apos;s key in TALON_AGENT_KEY, run this (or connect its MCP configuration and ask for the secret):</p>
              <pre tabIndex={0} aria-label="Command that reads the secret as the agent" className="overflow-x-auto rounded-lg border border-zinc-800 bg-zinc-950 p-3 font-mono text-xs leading-5 text-zinc-300">
                <code data-testid="onboarding-curl">{agentReadCurl(publicUrl, steps.agentId, steps.secret)}</code>
              </pre>
              <div>
                <CopyButton value={agentReadCurl(publicUrl, steps.agentId, steps.secret)} label="Copy command" />
              </div>
            </div>
          ) : (
            "Once there is a secret and an agent, a command to run as the agent appears here."
          )}
        </Step>
      </ol>
    </Card>
  );
}
