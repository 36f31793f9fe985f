"use client";
import { useState } from "react";
import { type CreateWebhookRequest, WEBHOOK_EVENTS, type WebhookCreatedResponse, type WebhookResponse, type WebhookTestResponse, ZCreateWebhookRequest } from "@/lib/contract/webhooks";
import type { ActionResult } from "@/lib/dashboard/action-result";
import { Button } from "@/components/ui/button";
import { ConfirmAction } from "@/components/ui/confirm-action";
import { CopyButton } from "@/components/ui/copy-button";
import { Checkbox, TextField } from "@/components/ui/field";
import { useSchemaValidation } from "@/components/ui/form";
import { Alert, Badge, EmptyState, Table, cellClass, formatDate } from "@/components/ui/layout";
import { fieldMessage, useAction } from "@/components/ui/use-action";

type Create = (input: CreateWebhookRequest) => Promise<ActionResult<WebhookCreatedResponse>>;
type EventFilter = (typeof WEBHOOK_EVENTS)[number];
type Ref = { webhook_id: string };
type Remove = (input: Ref) => Promise<ActionResult<null>>;
type SendTest = (input: Ref) => Promise<ActionResult<WebhookTestResponse>>;

const EVENT_LABELS: Record<EventFilter, string> = {
  "audit.*": "Every audit event",
  "secret.updated": "Secret updated",
  "secret.deleted": "Secret deleted",
  "secret.expiring": "Secret expiring (7 days ahead)",
  "secret.rotation_due": "Secret rotation due",
};

/** Creates a webhook; its signing secret is shown here once, with a copy button, and never again. */
export function CreateWebhookForm({ create }: { create: Create }) {
  const [url, setUrl] = useState("");
  const [description, setDescription] = useState("");
  const [events, setEvents] = useState<EventFilter[]>(["audit.*"]);
  const [created, setCreated] = useState<WebhookCreatedResponse | null>(null);
  const v = useSchemaValidation(ZCreateWebhookRequest);
  const mutation = useAction(create, {
    onSuccess: (w) => {
      setCreated(w);
      setUrl("");
      setDescription("");
    },
  });
  return (
    <form
      noValidate
      className="flex flex-col gap-4"
      onSubmit={(e) => {
        e.preventDefault();
        setCreated(null);
        const data = v.validate({ url, events, description });
        if (data) mutation.mutate(data);
      }}
    >
      <TextField label="Receiver URL (https)" type="url" autoComplete="off" value={url} onChange={(e) => setUrl(e.target.value)} error={fieldMessage("url", v.errors, mutation.error)} />
      <TextField label="Description (optional)" value={description} maxLength={500} onChange={(e) => setDescription(e.target.value)} error={fieldMessage("description", v.errors, mutation.error)} />
      <fieldset className="flex flex-col gap-2">
        <legend className="mb-1 text-sm font-medium text-zinc-200">Events</legend>
        {WEBHOOK_EVENTS.map((ev) => (
          <Checkbox
            key={ev}
            label={EVENT_LABELS[ev]}
            checked={events.includes(ev)}
            onChange={(e) => setEvents((cur) => (e.target.checked ? [...cur, ev] : cur.filter((x) => x !== ev)))}
          />
        ))}
        {fieldMessage("events", v.errors, mutation.error) && <p className="text-sm text-red-400">{fieldMessage("events", v.errors, mutation.error)}</p>}
      </fieldset>
      {mutation.error && !mutation.error.problem.fields?.length && <Alert>{mutation.error.problem.detail}</Alert>}
      {created && (
        <Alert tone="green" title="Webhook created: copy its signing secret now">
          <p className="mb-2">Your receiver verifies every delivery with it. It is not shown again.</p>
          <div className="flex flex-wrap items-center gap-2">
            <code className="break-all rounded bg-zinc-900 px-2 py-1 text-xs text-zinc-100">{created.secret}</code>
            <CopyButton value={created.secret} label="Copy secret" />
          </div>
        </Alert>
      )}
      <div>
        <Button type="submit" pending={mutation.isPending}>
          Create webhook
        </Button>
      </div>
    </form>
  );
}

function DeliveryState({ w }: { w: WebhookResponse }) {
  const last = w.last_delivery;
  return (
    <div className="flex flex-col gap-1">
      {!w.is_active && <Badge>paused</Badge>}
      {last ? (
        <span>
          <Badge tone={last.state === "delivered" ? "green" : last.state === "failed" ? "red" : "amber"}>{last.state}</Badge>{" "}
          <span className="text-zinc-400">
            {last.event_type}
            {last.last_status !== null ? ` · HTTP ${last.last_status}` : ""}
            {last.last_error && last.state !== "delivered" ? ` · ${last.last_error}` : ""}
          </span>
        </span>
      ) : (
        <span className="text-zinc-400">nothing sent yet</span>
      )}
      <span className="text-xs text-zinc-500">
        {w.pending_deliveries} pending · {w.failed_deliveries} failed
      </span>
    </div>
  );
}

function TestButton({ webhook, sendTest }: { webhook: WebhookResponse; sendTest: SendTest }) {
  const [result, setResult] = useState<WebhookTestResponse | null>(null);
  const mutation = useAction(sendTest, { onSuccess: (r) => setResult(r) });
  return (
    <div className="flex flex-col items-end gap-1">
      <Button variant="secondary" pending={mutation.isPending} onClick={() => mutation.mutate({ webhook_id: webhook.id })}>
        Send test
      </Button>
      <span role="status" className="text-xs">
        {result && (result.delivered ? <span className="text-green-400">Delivered (HTTP {result.status})</span> : <span className="text-red-400">Failed: {result.error}</span>)}
        {mutation.error && <span className="text-red-400">{mutation.error.problem.detail}</span>}
      </span>
    </div>
  );
}

export function WebhooksTable({ webhooks, remove, sendTest }: { webhooks: WebhookResponse[]; remove: Remove; sendTest: SendTest }) {
  if (webhooks.length === 0) return <EmptyState title="No webhooks">Send this organisation&apos;s audit events and secret changes to your SIEM or automation.</EmptyState>;
  return (
    <Table label="Webhooks" head={["Receiver", "Events", "Last delivery", "Created", <span key="a" className="sr-only">Actions</span>]}>
      {webhooks.map((w) => (
        <tr key={w.id}>
          <td className={`${cellClass} break-all text-zinc-100`}>
            {w.url}
            {w.description && <div className="text-xs text-zinc-400">{w.description}</div>}
          </td>
          <td className={`${cellClass} text-zinc-300`}>{w.events.join(", ")}</td>
          <td className={`${cellClass} text-sm`}>
            <DeliveryState w={w} />
          </td>
          <td className={`${cellClass} whitespace-nowrap text-zinc-400`}>{formatDate(w.created_at)}</td>
          <td className={`${cellClass} text-right`}>
            <div className="flex flex-col items-end gap-2">
              <TestButton webhook={w} sendTest={sendTest} />
              <ConfirmAction label="Delete" title="Delete this webhook?" confirmLabel="Delete webhook" variant="secondary" action={remove} input={{ webhook_id: w.id }}>
                <p>Deliveries not yet sent are dropped. The receiver gets nothing more from this organisation.</p>
              </ConfirmAction>
            </div>
          </td>
        </tr>
      ))}
    </Table>
  );
}
