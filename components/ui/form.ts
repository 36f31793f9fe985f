"use client";
import { useState } from "react";
import type { z } from "zod";
import { fieldErrorsOf } from "@/lib/contract/field-errors";
import { humanFieldText } from "@/lib/dashboard/human-problem";

/**
 * Client-side validation with the contract schema the server uses: `validate(input)` returns the
 * parsed value or null, and keeps a field → message map (in words) for the inputs to show.
 */
export function useSchemaValidation<S extends z.ZodType>(schema: S) {
  const [errors, setErrors] = useState<Record<string, string>>({});
  function validate(input: unknown): z.output<S> | null {
    const r = schema.safeParse(input);
    if (r.success) {
      setErrors({});
      return r.data;
    }
    const map: Record<string, string> = {};
    // In words beside the input ("must be at most 256 characters", not zod's "Too big: …").
    for (const f of fieldErrorsOf(r.error.issues, "form")) map[f.field] ??= humanFieldText(f.message);
    setErrors(map);
    return null;
  }
  return { errors, validate, clear: () => setErrors({}) };
}
