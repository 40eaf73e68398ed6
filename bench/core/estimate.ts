// How long a scenario run should take, from its own schedule (arrival window, stream duration,
// timeout, churn, throughput and sweep steps) plus the fixed costs seen here (starting a target,
// the barrier, the drain): the ETA of the live status. An estimate, never a measurement.

import { arrivalSpanMs } from "./driver/arrival-schedule.ts";
import type { Scenario } from "./scenario.ts";

/** Start a target, fork the workers, settle, drain and stop: about this much per run here. */
const FIXED_MS = 2_500;

export function expectedDurationMs(s: Scenario): number {
  switch (s.type) {
    case "burst":
      return FIXED_MS + arrivalSpanMs(s.arrival, s.waiters) + s.sets.window_ms + 500;
    case "stream":
      return FIXED_MS + arrivalSpanMs(s.arrival, s.waiters) + s.duration_s * 1000 + 500;
    case "timeout-storm":
      return FIXED_MS + arrivalSpanMs(s.arrival, s.waiters) + s.timeout_s * 1000 + 500;
    case "churn":
      return FIXED_MS + arrivalSpanMs(s.arrival, s.waiters) + s.duration_s * 1000 + 1_500;
    case "set-throughput":
      return FIXED_MS + s.duration_s * 1000 * (s.get ? 2 : 1);
    case "memory-sweep":
      return FIXED_MS + s.steps.length * (s.step_window_ms + 1_500);
  }
}
