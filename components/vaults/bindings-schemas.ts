import { z } from "zod";
import { ZCreateBindingRequest } from "@/lib/contract/bindings";
import { ZUuid } from "@/lib/contract/common";

/** The vault page's binding actions: the API's own contract (lib/contract/bindings.ts) with the vault id the API takes from the URL. */
export const ZCreateBindingInput = ZCreateBindingRequest.extend({ vault_id: ZUuid });
export const ZBindingRefInput = z.strictObject({ vault_id: ZUuid, binding_id: ZUuid });

export type CreateBindingInput = z.input<typeof ZCreateBindingInput>;
export type BindingRefInput = z.input<typeof ZBindingRefInput>;
