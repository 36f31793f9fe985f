"use client";
import { useEffect, useState } from "react";

/**
 * Reads `token` from the URL fragment (`#token=…`) once, then removes it from the address bar and
 * history. Links in our emails carry tokens in the fragment, which browsers never send to a server,
 * so they stay out of access logs and Referer headers.
 */
export function useFragmentToken(): { token: string | null; ready: boolean } {
  const [state, setState] = useState<{ token: string | null; ready: boolean }>({ token: null, ready: false });
  useEffect(() => {
    const token = new URLSearchParams(window.location.hash.slice(1)).get("token");
    if (token) window.history.replaceState(null, "", window.location.pathname);
    setState({ token, ready: true });
  }, []);
  return state;
}
