"use client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { type ReactNode, useState } from "react";

/** One react-query client per browser tab: mutations for every form, and client-side refreshes. */
export function Providers({ children }: { children: ReactNode }) {
  const [client] = useState(
    () =>
      new QueryClient({
        // No silent retries: a failed mutation shows its problem; reads refresh on focus.
        defaultOptions: { mutations: { retry: false }, queries: { retry: false, staleTime: 5_000 } },
      }),
  );
  return <QueryClientProvider client={client}>{children}</QueryClientProvider>;
}
