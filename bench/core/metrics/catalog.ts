// Every metric the harness reports, in one table: its unit, which direction is better, and its kind.
// Compare and the gate read it to judge a change; the gate rejects a thresholds file that names a
// metric not in it (an unknown name is an error, never a silent pass).

import { SCENARIO_TYPE_MODULES } from "../scenarios/registry.ts";
import { correctness, info, type MetricSpec, timing } from "./spec.ts";

// The shapes and helpers are in spec.ts; the metrics only one scenario type records are in that
// type's module (scenarios/<type>/index.ts), added here from the registry.
export type { Direction, DriverPhase, Kind, MetricSpec, Unit } from "./spec.ts";
export { DRIVER_PHASES } from "./spec.ts";

/** The metrics every scenario type may record. */
const SHARED_METRICS = {
  waiters: info("count", "waiters the scenario opens"),
  parked_within_window: {
    unit: "count",
    better: "larger",
    kind: "count",
    help: "parked when the arrival window ended",
  },
  parked_at_ready: {
    unit: "count",
    better: "larger",
    kind: "count",
    help: "parked when the readiness barrier ended",
  },
  all_parked_ms: timing("ms", "from the first arrival until the target held every waiter", "connect"),
  all_written_ms: timing(
    "ms",
    "from the first arrival until every request was written (target without /stats)",
    "connect",
  ),
  listen_overflows: {
    unit: "count",
    better: "smaller",
    kind: "count",
    help: "TcpExt ListenOverflows during connect (host-wide)",
  },
  listen_drops: {
    unit: "count",
    better: "smaller",
    kind: "count",
    help: "TcpExt ListenDrops during connect (host-wide)",
  },
  connect_p50_ms: timing("ms", "TCP connect latency from the scheduled arrival, median", "connect"),
  connect_p99_ms: timing("ms", "TCP connect latency, 99th percentile", "connect"),
  connect_max_ms: timing("ms", "TCP connect latency, maximum", "connect"),
  target_rss_per_waiter_bytes: {
    unit: "bytes",
    better: "smaller",
    kind: "memory",
    help: "target RSS growth / parked waiters",
  },
  target_heap_per_waiter_bytes: {
    unit: "bytes",
    better: "smaller",
    kind: "memory",
    help: "target heap growth / parked waiters",
  },
  server_cpu_connect_ms: timing("ms", "target CPU time during connect and ready"),
  driver_cpu_connect_ms: info("ms", "driver CPU time during connect and ready"),
  errors: correctness("waiters that failed (reset, refused, error answer)"),
  load_generator_lost_waiters: correctness(
    "waiters on a load agent lost mid-run (--agents): the load generator's loss, not notifications the server missed",
  ),
  timeouts: correctness("waiters answered with a timeout"),
  expected: info("count", "notifications a correct target delivers"),
  delivered: { unit: "count", better: "larger", kind: "count", help: "waiters that received their value" },
  missing: correctness("expected − delivered"),
  late_arrivals: {
    unit: "count",
    better: "smaller",
    kind: "count",
    help: "waiters that asked after their value was sent (after the readiness barrier): delivered, not in the latency",
  },
  duplicates: correctness("values received more than once by one waiter"),
  latency_p50_ms: timing("ms", "notification latency from the scheduled send, median", "fanout"),
  latency_p90_ms: timing("ms", "notification latency, 90th percentile", "fanout"),
  latency_p99_ms: timing("ms", "notification latency, 99th percentile", "fanout"),
  latency_p999_ms: timing("ms", "notification latency, 99.9th percentile", "fanout"),
  latency_max_ms: timing("ms", "notification latency, maximum", "fanout"),
  time_to_last_delivery_ms: timing(
    "ms",
    "from the first set's scheduled send to the last delivery",
    "fanout",
  ),
  sets_sent: info("count", "sets sent"),
  set_errors: correctness("sets that failed"),
  set_lateness_max_ms: info("ms", "largest delay of a set behind its schedule"),
  server_cpu_fanout_ms: timing("ms", "target CPU time from fire to the last delivery"),
  server_cpu_per_notification_us: timing("us", "target CPU per delivered notification"),
  driver_cpu_fanout_ms: info("ms", "driver CPU time from fire to the last delivery"),
  driver_cpu_per_notification_us: info("us", "driver CPU per delivered notification"),
  driver_busy_share_connect: info("ratio", "busiest driver worker's CPU / wall time of connect and ready"),
  driver_busy_share_fanout: info("ratio", "busiest driver worker's CPU / wall time of fire and collect"),
  driver_bound: info("bool", "1 when a driver worker was busy over half a phase"),
  parked_after_drain: correctness("waiters the target still held after every client closed"),
  phase_preflight_ms: info("ms", "phase duration"),
  phase_start_ms: info("ms", "phase duration"),
  phase_warmup_ms: info("ms", "phase duration"),
  warmup_answered: info("count", "warm-up waiters answered before the measured phases (--warmup)"),
  phase_connect_ms: info("ms", "phase duration"),
  phase_ready_ms: info("ms", "phase duration"),
  phase_fire_ms: info("ms", "phase duration"),
  phase_collect_ms: info("ms", "phase duration"),
  phase_drain_ms: info("ms", "phase duration"),
  phase_stop_ms: info("ms", "phase duration"),
} as const satisfies Record<string, MetricSpec>;

type Modules = (typeof SCENARIO_TYPE_MODULES)[number];
type KeysOf<T> = T extends unknown ? keyof T : never;
/** Every metric's name: the shared ones and each scenario type's own. */
export type MetricName = keyof typeof SHARED_METRICS | KeysOf<Modules["metrics"]>;

/** Every metric: the shared ones, then each scenario type's own (a name is never defined twice). */
export const METRICS: Readonly<Record<MetricName, MetricSpec>> = (() => {
  const all: Record<string, MetricSpec> = { ...SHARED_METRICS };
  for (const m of SCENARIO_TYPE_MODULES) {
    for (const [name, spec] of Object.entries(m.metrics as Record<string, MetricSpec>)) {
      if (Object.hasOwn(all, name)) throw new Error(`metric ${name} of ${m.type} is defined twice`);
      all[name] = spec;
    }
  }
  return all as Record<MetricName, MetricSpec>;
})();

export function isMetricName(name: string): name is MetricName {
  return Object.hasOwn(METRICS, name);
}

export function metricSpec(name: string): MetricSpec | undefined {
  return isMetricName(name) ? METRICS[name] : undefined;
}
