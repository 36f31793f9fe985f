import Form from "next/form";
import { buttonClass } from "@/components/ui/button";
import { SelectField } from "@/components/ui/field";

/** A GET form to `/policies?vault=<id>`: works from the keyboard and without JavaScript. */
export function VaultPicker({ vaults, selected }: { vaults: { id: string; name: string }[]; selected: string }) {
  return (
    <Form action="/policies" className="flex flex-col gap-2 sm:flex-row sm:items-end">
      <div className="sm:w-80">
        <SelectField key={selected} label="Vault" name="vault" defaultValue={selected} options={vaults.map((v) => ({ value: v.id, label: v.name }))} />
      </div>
      <button type="submit" className={buttonClass("secondary")}>
        Show policies
      </button>
    </Form>
  );
}
