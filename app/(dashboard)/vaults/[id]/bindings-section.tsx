import { BindingsCard, type BindingActions } from "@/components/vaults/bindings-card";
import type { BindingResponse } from "@/lib/contract/bindings";
import { listBindings } from "@/server/bindings/service";
import { ApiError } from "@/server/http/errors";
import type { Ctx } from "@/server/http/principal";
import { createBindingAction, deleteBindingAction } from "./binding-actions";

const actions: BindingActions = { create: createBindingAction, remove: deleteBindingAction };

/** The vault page's Bindings card, loaded with the same service as GET /v1/vaults/{id}/bindings. */
export async function BindingsSection({ ctx, vaultId }: { ctx: Ctx; vaultId: string }) {
  let bindings: BindingResponse[] = [];
  let problem: string | null = null;
  try {
    bindings = (await listBindings(ctx, vaultId)).bindings;
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 403)) throw e;
    problem = e.detail;
  }
  return <BindingsCard vaultId={vaultId} bindings={bindings} actions={actions} problem={problem} />;
}
