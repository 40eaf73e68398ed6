// What a memory fit may claim as bytes per waiter. Memory cannot shrink because more requests are
// parked: a negative slope says the steps were too small to stand out of the process's own memory
// noise (pages released, a collection between steps), not that waiters are free. Such a slope is
// absent with that reason, never reported as a figure (nor clipped to 0).

import type { Fit } from "../../statistics/least-squares.ts";

export type PerWaiter = { slope: number; r2: number } | { absent: string };

export function perWaiter(what: "RSS" | "heap", fit: Fit): PerWaiter {
  if (fit.slope >= 0) return { slope: fit.slope, r2: fit.r2 };
  const bytes = Math.round(fit.slope).toLocaleString("en-US");
  return {
    absent:
      `${what} per waiter not measured: ${what} fell as waiters were added (fitted slope ${bytes} B per waiter, ` +
      `r² ${fit.r2.toFixed(3)}), so the steps are too small against the process's memory noise; use larger steps`,
  };
}
