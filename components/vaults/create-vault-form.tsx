"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";
import { Button } from "@/components/ui/button";
import { TextAreaField, TextField } from "@/components/ui/field";
import { useSchemaValidation } from "@/components/ui/form";
import { Alert } from "@/components/ui/layout";
import { fieldMessage, useAction } from "@/components/ui/use-action";
import { ZCreateVaultRequest } from "@/lib/contract/vaults";
import { formProblem } from "./problem-message";
import type { CreateVaultAction } from "./types";

export function CreateVaultForm({ create }: { create: CreateVaultAction }) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const v = useSchemaValidation(ZCreateVaultRequest);
  const router = useRouter();
  // A new vault is empty: open it, where New secret is the next thing to do.
  const mutation = useAction(create, {
    refresh: false,
    onSuccess: (vault) => {
      setName("");
      setDescription("");
      router.push(`/vaults/${vault.id}`);
    },
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    const body = v.validate({ name, ...(description ? { description } : {}) });
    if (body) mutation.mutate(body);
  }

  const err = mutation.error;
  const problem = formProblem(err, ["name", "description"]);
  return (
    <form onSubmit={submit} noValidate className="flex flex-col gap-4" aria-label="Create vault">
      <TextField label="Name" name="name" value={name} onChange={(e) => setName(e.target.value)} maxLength={255} required placeholder="production" error={fieldMessage("name", v.errors, err)} />
      <TextAreaField
        label="Description"
        name="description"
        value={description}
        onChange={(e) => setDescription(e.target.value)}
        maxLength={1024}
        rows={2}
        hint="Optional."
        error={fieldMessage("description", v.errors, err)}
      />
      {problem && <Alert>{problem}</Alert>}
      {mutation.isSuccess && (
        <Alert tone="green">
          Vault <Link className="font-semibold underline" href={`/vaults/${mutation.data.id}`}>{mutation.data.name}</Link> created.
        </Alert>
      )}
      <div>
        <Button type="submit" pending={mutation.isPending}>
          Create vault
        </Button>
      </div>
    </form>
  );
}
