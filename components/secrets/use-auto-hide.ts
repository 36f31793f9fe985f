"use client";
import { useEffect, useState } from "react";

export const AUTO_HIDE_SECONDS = 30;

/**
 * Seconds left before a revealed value hides itself, counting down while `shown`; `hide` runs when it
 * reaches zero. A value left on screen is a value a passer-by or a screen share can read.
 */
export function useAutoHide(shown: boolean, hide: () => void, seconds = AUTO_HIDE_SECONDS): number {
  const [left, setLeft] = useState(seconds);
  useEffect(() => {
    if (!shown) return;
    setLeft(seconds);
    const started = Date.now();
    const tick = setInterval(() => {
      const remaining = seconds - Math.floor((Date.now() - started) / 1000);
      if (remaining <= 0) {
        clearInterval(tick);
        hide();
      } else setLeft(remaining);
    }, 250);
    return () => clearInterval(tick);
  }, [shown, hide, seconds]);
  return left;
}
