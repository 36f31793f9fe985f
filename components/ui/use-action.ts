"use client";
import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { ActionError, type ActionResult } from "@/lib/dashboard/action-result";

/**
 * A react-query mutation around a server action. A failed action becomes an `ActionError` (with the
 * fields at fault); a successful one refreshes the server components of the page unless
 * `refresh: false`, so lists show the change without a reload.
 */
export function useAction<I, T>(action: (input: I) => Promise<ActionResult<T>>, opts: { refresh?: boolean; onSuccess?: (data: T, input: I) => void } = {}) {
  const router = useRouter();
  return useMutation<T, ActionError, I>({
    mutationFn: async (input) => {
      let r: ActionResult<T>;
      try {
        r = await action(input);
      } catch (e) {
        // Next.js's own redirect and not-found signals pass through untouched.
        if (typeof e === "object" && e !== null && String((e as { digest?: unknown }).digest ?? "").startsWith("NEXT_")) throw e;
        // The action never answered (network down, server restarted mid-request): say so in words.
        throw new ActionError({ status: 0, title: "", detail: "Talon could not be reached. Check your connection and try again." });
      }
      if (!r.ok) throw new ActionError(r.problem);
      return r.data;
    },
    onSuccess: (data, input) => {
      opts.onSuccess?.(data, input);
      if (opts.refresh !== false) router.refresh();
    },
  });
}

/** An error message for `field`, from client-side validation first, then from the server's answer. */
export function fieldMessage(field: string, clientErrors: Record<string, string>, error: ActionError | null): string | undefined {
  return clientErrors[field] ?? error?.field(field);
}
