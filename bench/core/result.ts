// What one scenario run produced, for one target and repeat: the typed result every printer, file
// writer, compare and gate reads. It is assembled once, at the end of the run (run.ts), from what
// the runner returned and what the run itself observed; its target is known from the start. A run
// either completed or failed with its error (a union on `state`, as tinybench's task results are):
// a failed run still carries everything measured before the failure.

import type { DriverPhase, MetricName, Unit } from "./metrics/catalog.ts";
import type { DeliveryTimeline } from "./metrics/delivery-timeline.ts";
import type { TimeseriesRow } from "./metrics/sampler.ts";
import type { PhaseTiming } from "./phases.ts";
import type { Scenario } from "./scenario.ts";
import type { Transport } from "./targets/transports.ts";

export interface Metric {
  name: MetricName;
  value: number;
  unit: Unit;
}

/** Encoded HDR histograms (µs), merged over workers; each kind present where the scenario measured it. */
export interface ResultHistograms {
  /** Notification latency: arrival − scheduled send. */
  latency?: string;
  /** TCP connect latency from the scheduled arrival. */
  connect?: string;
  /** Timeout answers: arrival − (written + timeout). */
  lateness?: string;
  /** set-throughput: /set request latency (autocannon). */
  request?: string;
  /** set-throughput: /get of a present value, request latency (autocannon). */
  get?: string;
}

/**
 * One load agent's part of a run (--agents): beside the merged figures, which are its reports and
 * every other agent's added (counts summed, HDR histograms added, never percentiles averaged).
 */
export interface AgentResult {
  name: string;
  workers: number;
  /** Waiters dealt to it. */
  waiters: number;
  delivered: number;
  errors: number;
  /** Its own notification latency histogram (encoded; in the .hlog tagged with its name). */
  latency?: string;
  latency_p50_ms?: number;
  latency_p99_ms?: number;
  /** Added to its clock to read the coordinator's (ms), and the ± bound of that estimate. */
  clock_offset_ms: number;
  clock_uncertainty_ms: number;
}

export interface ResultFlags {
  /**
   * A driver worker was busy for more than half of a phase's wall time, so that phase's figures may
   * be the driver's, not the server's; driverBoundPhases says which.
   */
  driverBound: boolean;
  driverBoundPhases: DriverPhase[];
  /** The target could not count its parked waiters: the readiness barrier was time-based. */
  barrierApproximate: boolean;
  /** How a stream scenario re-polled ("cursor" or "fresh-key"). */
  streamMode?: "cursor" | "fresh-key";
}

/** Why a run ended early: a stable error code, the message, and the exit code it ends the session with. */
export interface RunFailure {
  code: string;
  message: string;
  exitCode: number;
}

interface ResultFields {
  scenario: Scenario;
  target: string;
  /** How the waiters heard of values (absent in results written before transports: long-poll). */
  transport?: Transport;
  repeat: number;
  /** Wall-clock start of this run (epoch ms): where its histograms' interval begins in the .hlog. */
  startedAtMs: number;
  /** Load from agents: each one's part (absent for a local driver). */
  agents?: AgentResult[];
  warnings: string[];
  phases: PhaseTiming[];
  metrics: Metric[];
  histograms: ResultHistograms;
  timeseries: TimeseriesRow[];
  /** Deliveries over time (t = 0 at the first set), where anything was delivered. */
  deliveries?: DeliveryTimeline;
  /** Rows of a scenario's own table (memory-sweep), written as <scenario>.csv. */
  table?: Record<string, number>[];
  flags: ResultFlags;
  errorReasons: Record<string, number>;
}

export type ScenarioResult =
  | (ResultFields & { state: "complete" })
  | (ResultFields & { state: "failed"; error: RunFailure });

export const isComplete = (r: ScenarioResult): r is ResultFields & { state: "complete" } =>
  r.state === "complete";

/** The failure of a result, if it failed. */
export const failureOf = (r: ScenarioResult): RunFailure | undefined =>
  r.state === "failed" ? r.error : undefined;
