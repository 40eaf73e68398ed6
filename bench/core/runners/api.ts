// The seam between the run (run.ts) and a scenario runner. A runner gets the started target, the
// phase clock, a guard that turns Ctrl-C or a dying target into an exception at the next wait, the
// driver fleet's lifecycle, and a narrow sink for what it observes along the way (metrics, warnings,
// flags, error counts: kept even if a later step fails). It returns what only it can produce (its
// own table, extra histograms, how it streamed). run.ts owns the beginning (preflight, start), the
// end (drain, stop), and assembles the result once.

import type { Fleet } from "../driver/fleet.ts";
import type { WorkerPlan, WorkerStatus } from "../driver/messages.ts";
import type { Aggregate } from "../metrics/aggregate.ts";
import type { DriverPhase, MetricName } from "../metrics/catalog.ts";
import type { CpuReading } from "../metrics/cpu.ts";
import type { PhaseRecorder } from "../phases.ts";
import type { Progress } from "../progress.ts";
import type { ResultFlags, ResultHistograms } from "../result.ts";
import type { Scenario } from "../scenario.ts";
import type { Target, TargetStats } from "../targets/target.ts";
import type { Transport } from "../targets/transports.ts";

export interface RunnerApi<S extends Scenario = Scenario> {
  readonly scenario: S;
  readonly target: Target;
  readonly phases: PhaseRecorder;
  readonly progress: Progress;
  /** Driver worker processes to use. */
  readonly workers: number;
  readonly runTag: string;
  readonly repeat: number;
  /** Waiters that warmed the target up before this run (--warmup); 0: it was measured cold. */
  readonly warmedUpBy: number;
  /** How the waiters hear of values: long-poll, or a push transport (every plan gets it). */
  readonly transport: Transport;
  /** Race a wait against Ctrl-C and the target dying. */
  guard<T>(p: Promise<T>): Promise<T>;
  /** Aborted on Ctrl-C or when the target dies: long loops (the setter) stop at once. */
  readonly stopSignal: AbortSignal;
  sleep(ms: number): Promise<void>;
  metric(name: MetricName, value: number): void;
  warn(text: string): void;
  /** The busiest driver worker was over half busy in this phase: its figures may be the driver's. */
  flagDriverBound(phase: DriverPhase): void;
  /** The target cannot count parked waiters: the readiness barrier was time-based. */
  flagBarrierApproximate(): void;
  /**
   * The target did something that makes this run's verdict untrustworthy (its waiters never all
   * parked, ...): the run goes on and keeps every figure, then ends as the target's failure (exit 3).
   */
  targetFault(text: string): void;
  /** Add error counts by reason (with a prefix such as "set: "). */
  countErrors(reasons: Record<string, number>, prefix?: string): void;
  /** Fork the driver workers for these plans (one fleet per run). */
  startFleet(plans: WorkerPlan[]): Promise<Fleet>;
  /**
   * The workers' reports, aggregated once (counters summed, histograms merged); the run keeps the
   * histograms and error reasons and records connect latency from them.
   */
  takeReports(): Promise<Aggregate>;
  /** CPU time so far of the target and of each driver worker. */
  readCpu(): Promise<CpuReading>;
  /** The target's memory now (RSS from /proc where spawned); with gc, after a GC where it exposes one. */
  readMemory(gc?: boolean): Promise<TargetStats>;
  /** Close every waiter socket and wait until the target holds none; records parked_after_drain. */
  drain(): Promise<number | undefined>;
  /** When some waiters failed (status.errors > 0), ask whether the target is gone: if so, end the run with exit 3. */
  failIfTargetGone(status: WorkerStatus): Promise<void>;
}

/** What a runner returns beyond the sink: only what it alone produces. */
export interface RunnerOutput {
  /** Rows of the scenario's own table (memory-sweep), written as <scenario>.csv. */
  table?: Record<string, number>[];
  /** Histograms the driver workers do not record (set-throughput's autocannon times). */
  histograms?: Pick<ResultHistograms, "request" | "get">;
  streamMode?: ResultFlags["streamMode"];
}

export type Runner<S extends Scenario> = (api: RunnerApi<S>) => Promise<RunnerOutput>;
