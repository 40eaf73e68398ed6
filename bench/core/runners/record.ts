// Metric blocks more than one runner records: latency percentiles from a merged histogram, the
// driver's busy share of a phase, and the fan-out's CPU and setter figures (burst and stream).
// A percentile with no sample is not recorded: an empty figure, never a 0 that reads as fast.

import type { DriverPhase, MetricName } from "../metrics/catalog.ts";
import { busiestShare, type CpuDelta, DRIVER_BOUND_SHARE } from "../metrics/cpu.ts";
import { decodeHistogram, type LatencySummary, summarize } from "../metrics/histograms.ts";
import type { SetterResult } from "../setter.ts";
import type { RunnerApi } from "./api.ts";

/** Flag a phase whose busiest driver worker was busy over half its wall time; records the share. */
export function recordDriverShare(api: RunnerApi, phase: DriverPhase, cpu: CpuDelta, wallMs: number): void {
  const share = busiestShare(cpu, wallMs);
  api.metric(phase === "connect" ? "driver_busy_share_connect" : "driver_busy_share_fanout", share);
  if (share > DRIVER_BOUND_SHARE) api.flagDriverBound(phase);
}

const PERCENTILES = {
  connect: ["connect_p50_ms", "connect_p99_ms", undefined, undefined, "connect_max_ms"],
  notification: ["latency_p50_ms", "latency_p99_ms", "latency_p90_ms", "latency_p999_ms", "latency_max_ms"],
  lateness: [
    "timeout_lateness_p50_ms",
    "timeout_lateness_p99_ms",
    undefined,
    undefined,
    "timeout_lateness_max_ms",
  ],
} as const satisfies Record<string, readonly (MetricName | undefined)[]>;

/**
 * Percentiles of an encoded merged histogram as metrics; nothing when it holds no sample. Returns
 * the summary recorded, for a runner that judges by it too (undefined: nothing recorded).
 */
export function recordLatency(
  api: Pick<RunnerApi, "metric">,
  kind: keyof typeof PERCENTILES,
  encoded: string | undefined,
): LatencySummary | undefined {
  if (encoded === undefined) return undefined;
  const s = summarize(decodeHistogram(encoded));
  if (s.count === 0) return undefined;
  const [p50, p99, p90, p999, max] = PERCENTILES[kind];
  api.metric(p50, s.p50_ms);
  if (p90) api.metric(p90, s.p90_ms);
  api.metric(p99, s.p99_ms);
  if (p999) api.metric(p999, s.p999_ms);
  api.metric(max, s.max_ms);
  return s;
}

/**
 * The fan-out phase of a scenario with sets (burst, stream): what the setter did, and the CPU of the
 * server and of the driver per notification delivered.
 */
export function recordFanout(api: RunnerApi, setter: SetterResult, cpu: CpuDelta, delivered: number): void {
  const m = api.metric;
  m("sets_sent", setter.sent);
  m("set_errors", setter.errors);
  m("sets_late", setter.late);
  m("set_lateness_p99_ms", setter.lateness.getValueAtPercentile(99) / 1000);
  m("set_lateness_max_ms", setter.lateness.maxValue / 1000);
  api.countErrors(setter.errorReasons, "set: ");
  // Per notification only where there were notifications: nothing delivered is no figure at all
  // (dividing by max(1, 0) once printed 37,549 µs "per notification" for a target that woke nobody).
  if (cpu.targetMs !== undefined) {
    m("server_cpu_fanout_ms", cpu.targetMs);
    if (delivered > 0) m("server_cpu_per_notification_us", (cpu.targetMs * 1000) / delivered);
  } else if (cpu.targetNote) {
    api.warn(`${api.scenario.name}: server CPU per notification not measured: ${cpu.targetNote}`);
  }
  m("driver_cpu_fanout_ms", cpu.driverMs);
  if (delivered > 0) m("driver_cpu_per_notification_us", (cpu.driverMs * 1000) / delivered);
  else api.warn(`${api.scenario.name}: CPU per notification not measured: nothing was delivered`);
}
