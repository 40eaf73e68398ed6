// Every metric the harness reports, in one table: its unit, which direction is better, and its kind.
// Compare and the gate read it to judge a change; the gate rejects a thresholds file that names a
// metric not in it (an unknown name is an error, never a silent pass).

export type Direction = "smaller" | "larger" | "info";
/**
 * timing: moves with machine speed (the gate can normalise it by the calibration server);
 * memory: bytes, independent of speed; correctness: counts where any increase is a failure;
 * count: other counts; info: context, never judged.
 */
export type Kind = "timing" | "memory" | "correctness" | "count" | "info";
export type Unit = "ms" | "us" | "bytes" | "count" | "ratio" | "pct" | "bool" | "per_s";

/** A driver phase whose pace a client-observed timing can be (see ScenarioResult.flags.driverBoundPhases in result.ts). */
export const DRIVER_PHASES = ["connect", "fanout"] as const;
export type DriverPhase = (typeof DRIVER_PHASES)[number];

export interface MetricSpec {
  unit: Unit;
  better: Direction;
  kind: Kind;
  help: string;
  /**
   * Set on timings the driver observes (latency, time to park): the phase whose driver-bound flag
   * says the figure may be the driver's pace rather than the server's. Server CPU has none.
   */
  phase?: DriverPhase;
}

const timing = (unit: Unit, help: string, phase?: DriverPhase): MetricSpec => ({
  unit,
  better: "smaller",
  kind: "timing",
  help,
  ...(phase ? { phase } : {}),
});
const correctness = (help: string): MetricSpec => ({
  unit: "count",
  better: "smaller",
  kind: "correctness",
  help,
});
const info = (unit: Unit, help: string): MetricSpec => ({ unit, better: "info", kind: "info", help });

export const METRICS = {
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
  // stream
  stream_cursor: info("bool", "1: re-polled with the since cursor; 0: a fresh key per message"),
  stream_messages_per_key: info("count", "messages the setter published on each key"),
  lost: correctness("messages a waiter never saw (gaps and missing tail)"),
  out_of_order: correctness("messages that arrived after a later one"),
  sets_late: info("count", "sets sent over 2 ms behind their schedule (the setter's own lateness)"),
  set_lateness_p99_ms: info("ms", "setter lateness behind schedule, 99th percentile"),
  // timeout-storm
  missing_timeouts: correctness("waiters that got no timeout answer"),
  extra_timeouts: correctness("timeout answers beyond one per waiter"),
  early_timeouts: correctness("timeout answers more than 5 ms before the timeout"),
  timeout_lateness_p50_ms: timing("ms", "timeout answer − (request written + timeout), median", "fanout"),
  timeout_lateness_p99_ms: timing("ms", "timeout lateness, 99th percentile", "fanout"),
  timeout_lateness_max_ms: timing("ms", "timeout lateness, maximum", "fanout"),
  server_cpu_storm_ms: timing("ms", "target CPU time during the timeout storm"),
  // churn
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
  // set-throughput
  set_rps: { unit: "per_s", better: "larger", kind: "count", help: "/set requests per second (autocannon)" },
  set_requests: info("count", "/set requests completed"),
  set_latency_p50_ms: timing("ms", "/set response time, median"),
  set_latency_p99_ms: timing("ms", "/set response time, 99th percentile"),
  get_rps: { unit: "per_s", better: "larger", kind: "count", help: "/get of a present value per second" },
  get_latency_p50_ms: timing("ms", "/get of a present value, response time, median"),
  get_latency_p99_ms: timing("ms", "/get of a present value, response time, 99th percentile"),
  non_2xx: correctness("responses with a status outside 2xx"),
  request_errors: correctness("autocannon request errors and timeouts"),
  server_cpu_per_set_us: timing("us", "target CPU per /set"),
  // memory-sweep
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

export type MetricName = keyof typeof METRICS;

export function isMetricName(name: string): name is MetricName {
  return Object.hasOwn(METRICS, name);
}

export function metricSpec(name: string): MetricSpec | undefined {
  return isMetricName(name) ? METRICS[name] : undefined;
}
