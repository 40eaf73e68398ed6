// timeout-storm: waiters ask for the same short timeout and no set comes: one timeout answer each,
// on time. Needs a protocol with a timeout of its own.

import { arrivalSpanMs } from "../../driver/arrival-schedule.ts";
import { correctness, timing } from "../../metrics/spec.ts";
import { FIXED_MS } from "../common.ts";
import { PARKING, scenarioType } from "../module.ts";
import { TimeoutStormScenarioSchema } from "./schema.ts";

export const timeoutStorm = scenarioType({
  type: "timeout-storm",
  summary: "waiters ask for the same short timeout and no set comes: one timeout answer each, how late",
  schema: TimeoutStormScenarioSchema,
  sockets: (s) => s.waiters,
  expectedMs: (s) => FIXED_MS + arrivalSpanMs(s.arrival, s.waiters) + s.timeout_s * 1000 + 500,
  loadRunner: () => import("./runner.ts").then((m) => m.runTimeoutStorm),
  needs: "timeout",
  expectedNonZero: ["timeouts"],
  metrics: {
    missing_timeouts: correctness("waiters that got no timeout answer"),
    extra_timeouts: correctness("timeout answers beyond one per waiter"),
    early_timeouts: correctness("timeout answers more than 5 ms before the timeout"),
    timeout_lateness_p50_ms: timing("ms", "timeout answer − (request written + timeout), median", "fanout"),
    timeout_lateness_p99_ms: timing("ms", "timeout lateness, 99th percentile", "fanout"),
    timeout_lateness_max_ms: timing("ms", "timeout lateness, maximum", "fanout"),
    server_cpu_storm_ms: timing("ms", "target CPU time during the timeout storm"),
  },
  columns: [
    ...PARKING,
    { head: "timeouts", metric: "timeouts" },
    { head: "missing", metric: "missing_timeouts" },
    { head: "extra", metric: "extra_timeouts" },
    { head: "early", metric: "early_timeouts" },
    { head: "late p50", metric: "timeout_lateness_p50_ms", digits: 1 },
    { head: "late p99", metric: "timeout_lateness_p99_ms", digits: 1 },
    { head: "late max", metric: "timeout_lateness_max_ms", digits: 1 },
    { head: "srv cpu ms", metric: "server_cpu_storm_ms", digits: 0 },
  ],
  headlines: [
    ["timeouts", "timeouts", 0],
    ["missing_timeouts", "missing timeouts", 0],
    ["timeout_lateness_p99_ms", "timeout lateness p99 (ms)", 1],
    ["server_cpu_storm_ms", "server CPU in the storm (ms)", 0],
  ],
});
