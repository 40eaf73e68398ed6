// What a scenario runner gets from the run (run.ts): the started target, the phase clock, a guard
// that turns Ctrl-C or a dying target into an exception at the next wait, a metric sink, and the
// driver fleet's lifecycle. A runner holds the scenario-specific middle of a run; run.ts owns the
// beginning (preflight, start) and the end (drain, stop, keeping results on failure).

import type { Fleet } from "../driver/fleet.ts";
import type { WorkerPlan, WorkerReport, WorkerStatus } from "../driver/messages.ts";
import type { MetricName } from "../metrics/catalog.ts";
import type { CpuReading } from "../metrics/sampler.ts";
import type { Progress } from "../output/progress.ts";
import type { PhaseRecorder } from "../phases.ts";
import type { ScenarioResult } from "../run.ts";
import type { Scenario } from "../scenario.ts";
import type { Target, TargetStats } from "../targets/target.ts";

export interface RunnerApi<S extends Scenario = Scenario> {
  readonly scenario: S;
  readonly target: Target;
  readonly phases: PhaseRecorder;
  readonly progress: Progress;
  readonly result: ScenarioResult;
  /** Driver worker processes to use. */
  readonly workers: number;
  readonly runTag: string;
  readonly repeat: number;
  /** Race a wait against Ctrl-C and the target dying. */
  guard<T>(p: Promise<T>): Promise<T>;
  sleep(ms: number): Promise<void>;
  metric(name: MetricName, value: number): void;
  /** Fork the driver workers for these plans (one fleet per run). */
  startFleet(plans: WorkerPlan[]): Promise<Fleet>;
  /** The workers' reports, merged into the result's histograms and error reasons. */
  takeReports(): Promise<WorkerReport[]>;
  /** CPU time so far of the target and of each driver worker. */
  readCpu(): Promise<CpuReading>;
  /** The target's memory now (RSS from /proc where spawned); with gc, after a GC where it exposes one. */
  readMemory(gc?: boolean): Promise<TargetStats>;
  /** Close every waiter socket and wait until the target holds none; records parked_after_drain. */
  drain(): Promise<number | undefined>;
  /** When some waiters failed (status.errors > 0), ask whether the target is gone: if so, end the run with exit 3. */
  failIfTargetGone(status: WorkerStatus): Promise<void>;
}

export type Runner<S extends Scenario> = (api: RunnerApi<S>) => Promise<void>;
