"use client";
import type { ActionResult } from "@/lib/dashboard/action-result";
import type { SessionSummary } from "@/lib/dashboard/sessions";
import { Button } from "@/components/ui/button";
import { Alert, Badge, EmptyState, Table, cellClass, formatDate } from "@/components/ui/layout";
import { useAction } from "@/components/ui/use-action";
import { describeUserAgent } from "@/lib/dashboard/user-agent";

type RevokeSession = (input: { session_id: string }) => Promise<ActionResult<null>>;

const METHODS: Record<string, string> = {
  password: "Password",
  "password+totp": "Password + authenticator",
  "password+recovery_code": "Password + recovery code",
  passkey: "Passkey",
  google: "Google",
};

/** The user's signed-in browsers; any but this one can be signed out from here. */
export function SessionsTable({ sessions, revoke }: { sessions: SessionSummary[]; revoke: RevokeSession }) {
  const mutation = useAction(revoke);
  if (sessions.length === 0) return <EmptyState title="No active sessions" />;
  return (
    <div className="flex flex-col gap-3">
      {mutation.error && <Alert>{mutation.error.problem.detail}</Alert>}
      <Table label="Sessions" head={["Device", "Sign-in", "IP address", "Signed in", "Last seen", <span key="a" className="sr-only">Actions</span>]}>
        {sessions.map((s) => (
          <tr key={s.id}>
            <td className={cellClass}>
              <p className="max-w-56 truncate text-zinc-200" title={s.user_agent}>
                {describeUserAgent(s.user_agent)}
              </p>
              {s.current && <Badge tone="green">This device</Badge>}
            </td>
            <td className={`${cellClass} text-zinc-300`}>{METHODS[s.method] ?? s.method}</td>
            <td className={`${cellClass} font-mono text-zinc-300`}>{s.ip || "—"}</td>
            <td className={`${cellClass} whitespace-nowrap text-zinc-400`}>{formatDate(s.created_at)}</td>
            <td className={`${cellClass} whitespace-nowrap text-zinc-400`}>{formatDate(s.last_seen_at)}</td>
            <td className={`${cellClass} text-right`}>
              {!s.current && (
                <Button
                  variant="secondary"
                  className="whitespace-nowrap"
                  pending={mutation.isPending && mutation.variables?.session_id === s.id}
                  onClick={() => mutation.mutate({ session_id: s.id })}
                >
                  Sign out
                </Button>
              )}
            </td>
          </tr>
        ))}
      </Table>
    </div>
  );
}
