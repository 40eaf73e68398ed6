// churn: parked waiters abort and re-open for a while, then all leave: back to 0 parked and the
// starting heap? Waiters left after the drain are its finding, judged by the scenario itself.

import { arrivalSpanMs } from "../../driver/arrival-schedule.ts";
import { correctness, info } from "../../metrics/spec.ts";
import { FIXED_MS } from "../common.ts";
import { scenarioType } from "../module.ts";
import { ChurnScenarioSchema } from "./schema.ts";

export const churn = scenarioType({
  type: "churn",
  summary: "parked waiters abort and re-open, then all leave: back to 0 parked and the starting heap?",
  schema: ChurnScenarioSchema,
  push: true,
  sockets: (s) => s.waiters,
  expectedMs: (s) => FIXED_MS + arrivalSpanMs(s.arrival, s.waiters) + s.duration_s * 1000 + 1_500,
  loadRunner: () => import("./runner.ts").then((m) => m.runChurn),
  drainJudgedByItself: true,
  expectedNonZero: ["parked_after_drain"],
  metrics: {
    churned: info("count", "waiters aborted and opened again"),
    heap_before_bytes: info("bytes", "target heap after GC before the run"),
    heap_after_bytes: info("bytes", "target heap after GC after the drain"),
    heap_growth_bytes: {
      unit: "bytes",
      better: "smaller",
      kind: "memory",
      help: "heap after − before (after GC)",
    },
    rss_growth_bytes: info("bytes", "RSS after − before (RSS rarely shrinks; context only)"),
    leak: correctness("1 when waiters stayed parked or the heap grew past the tolerance"),
  },
  columns: [
    { head: "waiters", metric: "waiters" },
    { head: "churned", metric: "churned" },
    { head: "errors", metric: "errors" },
    { head: "parked after", metric: "parked_after_drain" },
    { head: "heap before", metric: "heap_before_bytes" },
    { head: "heap after", metric: "heap_after_bytes" },
    { head: "growth", metric: "heap_growth_bytes" },
    { head: "leak", metric: "leak" },
  ],
  headlines: [
    ["churned", "churned", 0],
    ["parked_after_drain", "parked after drain", 0],
    ["heap_growth_bytes", "heap growth (bytes)", 0],
    ["leak", "leak", 0],
  ],
});
