// burst: waiters park, then one burst of sets (count 0: connecting alone). The fan-out scenarios
// (fanout-1k, fanout-10k, key-burst, the gate's) are of this type.

import { arrivalSpanMs } from "../../driver/arrival-schedule.ts";
import { FIXED_MS } from "../common.ts";
import { CPU, LATENCY, MEMORY, PARKING, scenarioType } from "../module.ts";
import { BurstScenarioSchema } from "./schema.ts";

export const burst = scenarioType({
  type: "burst",
  summary:
    "waiters park, then a burst of sets: notification latency, time to the last delivery, CPU per notification",
  schema: BurstScenarioSchema,
  push: true,
  sockets: (s) => s.waiters,
  expectedMs: (s) => FIXED_MS + arrivalSpanMs(s.arrival, s.waiters) + s.sets.window_ms + 500,
  loadRunner: () => import("./runner.ts").then((m) => m.runBurst),
  metrics: {},
  columns: [
    ...PARKING,
    ...LATENCY,
    { head: "last ms", metric: "time_to_last_delivery_ms", digits: 1 },
    { head: "delivered", metric: "delivered", wide: true },
    { head: "missing", metric: "missing" },
    { head: "errors", metric: "errors", wide: true },
    ...MEMORY,
    ...CPU,
  ],
  headlines: [
    ["parked_within_window", "parked within the arrival window", 0],
    ["all_parked_ms", "all parked after (ms)", 0],
    ["latency_p50_ms", "latency p50 (ms)", 1],
    ["latency_p99_ms", "latency p99 (ms)", 1],
    ["time_to_last_delivery_ms", "time to last delivery (ms)", 1],
    ["delivered", "delivered", 0],
    ["missing", "missing", 0],
    ["target_rss_per_waiter_bytes", "RSS per parked waiter (bytes)", 0],
    ["server_cpu_per_notification_us", "server CPU per notification (µs)", 1],
    ["driver_cpu_per_notification_us", "driver CPU per notification (µs)", 1],
  ],
  sideBySide: [
    ["parked_within_window", "waiters parked within the arrival window", 0],
    ["all_parked_ms", "all parked after (ms)", 0],
    ["listen_overflows", "listen-queue overflows", 0],
    ["latency_p50_ms", "latency p50 (ms)", 1],
    ["latency_p99_ms", "latency p99 (ms)", 1],
    ["time_to_last_delivery_ms", "time to last delivery (ms)", 1],
    ["target_rss_per_waiter_bytes", "RSS per parked waiter (bytes)", 0],
    ["server_cpu_connect_ms", "server CPU, connect phase (ms)", 0],
    ["server_cpu_per_notification_us", "server CPU per notification (µs)", 1],
    ["missing", "missing notifications", 0],
  ],
});
