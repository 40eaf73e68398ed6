// One item of the probe's checklist (probe.ts, probe-push.ts; printed by output/checklist.ts), and
// the check both make of the stats page.

import type { Target } from "./targets/target.ts";

export interface Check {
  item: string;
  /** A run cannot work without it (the probe exits 3 when one fails). */
  required: boolean;
  status: "pass" | "fail" | "skip";
  detail: string;
}

/**
 * The target's stats page counts what is parked now (a wait, or an open subscription): its
 * readiness barrier needs that count. `parked`: whether the thing to count really parked (a wait
 * that was answered at once cannot be counted, whatever the page says).
 */
export async function statsCountCheck(target: Target, item: string, parked = true): Promise<Check> {
  const page = target.profile.stats;
  if (page === undefined)
    return {
      item,
      required: false,
      status: "skip",
      detail: "the profile names no stats page: the readiness barrier will be approximate",
    };
  const stats = await target.stats().catch((e: Error) => e);
  const count = stats instanceof Error ? undefined : stats?.waiters;
  return {
    item,
    required: false,
    status: parked && count !== undefined && count >= 1 ? "pass" : "fail",
    detail:
      stats instanceof Error
        ? `stats page unreadable: ${stats.message}`
        : count === undefined
          ? `no parked count at ${page.path}`
          : `parked: ${count}`,
  };
}
