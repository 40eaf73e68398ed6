// memory-sweep: parked waiters stepped up; RSS and heap at each step; bytes per waiter as the
// least-squares slope.

import { info } from "../../metrics/spec.ts";
import { FIXED_MS } from "../common.ts";
import { scenarioType } from "../module.ts";
import { MemorySweepScenarioSchema } from "./schema.ts";

export const memorySweep = scenarioType({
  type: "memory-sweep",
  summary: "parked waiters stepped up: RSS and heap per waiter as a fitted slope",
  schema: MemorySweepScenarioSchema,
  push: true,
  sockets: (s) => Math.max(...s.steps),
  expectedMs: (s) => FIXED_MS + s.steps.length * (s.step_window_ms + 1_500),
  loadRunner: () => import("./runner.ts").then((m) => m.runMemorySweep),
  metrics: {
    memory_slope_rss_bytes_per_waiter: {
      unit: "bytes",
      better: "smaller",
      kind: "memory",
      help: "least-squares slope of RSS over parked waiters",
    },
    memory_slope_heap_bytes_per_waiter: {
      unit: "bytes",
      better: "smaller",
      kind: "memory",
      help: "least-squares slope of heap over parked waiters",
    },
    memory_fit_r2_rss: info("ratio", "r² of the RSS fit"),
    memory_fit_r2_heap: info("ratio", "r² of the heap fit"),
  },
  columns: [
    { head: "max waiters", metric: "waiters" },
    { head: "rss B/w (slope)", metric: "memory_slope_rss_bytes_per_waiter", digits: 0 },
    { head: "r²", metric: "memory_fit_r2_rss", digits: 3 },
    { head: "heap B/w (slope)", metric: "memory_slope_heap_bytes_per_waiter", digits: 0 },
    { head: "r²", metric: "memory_fit_r2_heap", digits: 3 },
  ],
  headlines: [
    ["memory_slope_rss_bytes_per_waiter", "RSS slope (bytes per waiter)", 0],
    ["memory_slope_heap_bytes_per_waiter", "heap slope (bytes per waiter)", 0],
  ],
});
