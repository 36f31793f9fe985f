import { Checkbox } from "@/components/ui/field";
import type { VaultOption } from "./agent-key-panel";

/** Vault binding: ticking none leaves the agent unbound (its policies alone decide what it reaches). */
export function VaultBindingField({ vaults, value, onChange, error }: { vaults: VaultOption[]; value: string[]; onChange: (ids: string[]) => void; error?: string }) {
  const toggle = (id: string, on: boolean) => onChange(on ? [...value, id] : value.filter((v) => v !== id));
  return (
    <fieldset className="flex flex-col gap-2">
      <legend className="mb-1.5 text-sm font-medium text-zinc-200">Vault binding</legend>
      {vaults.length === 0 ? (
        <p className="text-xs text-zinc-500">Your organisation has no vaults yet.</p>
      ) : (
        <div className="grid gap-2 sm:grid-cols-2">
          {vaults.map((v) => (
            <Checkbox key={v.id} label={v.name} checked={value.includes(v.id)} onChange={(e) => toggle(v.id, e.target.checked)} />
          ))}
        </div>
      )}
      <p className="text-xs text-zinc-500">None ticked: the agent may use any vault its policies allow. Ticked: only these vaults.</p>
      {error && (
        <p role="alert" className="text-xs text-red-400">
          {error}
        </p>
      )}
    </fieldset>
  );
}
