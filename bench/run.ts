// One scenario run, whatever its type: preflight → start target → (the scenario's runner: connect,
// ready, fire, collect, ...) → drain → stop. Returns data (metrics, encoded histograms, timeseries,
// phase timings); printing and files are elsewhere. Whatever happens, what was measured is returned,
// with complete=false and the error, so a dying target or Ctrl-C never loses results.

import { defaultWorkerCount, Fleet } from "./driver/fleet.ts";
import type { WorkerPlan, WorkerReport, WorkerStatus } from "./driver/messages.ts";
import { BenchError, TargetError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";
import { METRICS, type MetricName, type Unit } from "./metrics/catalog.ts";
import { encodeHistogram, mergeEncoded } from "./metrics/histograms.ts";
import { readProcess } from "./metrics/proc.ts";
import { readCpu, Sampler, type TimeseriesRow } from "./metrics/sampler.ts";
import type { Progress } from "./output/progress.ts";
import { PhaseRecorder, type PhaseTiming } from "./phases.ts";
import { type HostLimits, preflight } from "./preflight.ts";
import type { RunnerApi } from "./runners/api.ts";
import { runBurst } from "./runners/burst.ts";
import { runChurn } from "./runners/churn.ts";
import { POLL_MS } from "./runners/connect.ts";
import { runMemorySweep } from "./runners/memory-sweep.ts";
import { runSetThroughput } from "./runners/set-throughput.ts";
import { runStream } from "./runners/stream.ts";
import { runTimeoutStorm } from "./runners/timeout-storm.ts";
import { type Scenario, socketsNeeded } from "./scenario.ts";
import type { Target, TargetStats } from "./targets/target.ts";

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

export interface ScenarioResult {
  scenario: Scenario;
  target: string;
  repeat: number;
  complete: boolean;
  error?: { code: string; message: string; exitCode: number };
  warnings: string[];
  phases: PhaseTiming[];
  metrics: Metric[];
  histograms: ResultHistograms;
  timeseries: TimeseriesRow[];
  /** Rows of a scenario's own table (memory-sweep), written as <scenario>.csv. */
  table?: Record<string, number>[];
  /**
   * driverBound: a driver worker was busy for more than half of a phase's wall time, so that phase's
   * figures may be the driver's, not the server's; driverBoundPhases says which ("connect", "fanout").
   * streamMode: how a stream scenario re-polled ("cursor" or "fresh-key").
   */
  flags: {
    driverBound: boolean;
    driverBoundPhases: string[];
    barrierApproximate: boolean;
    streamMode?: string;
  };
  errorReasons: Record<string, number>;
}

export interface RunContext {
  /** Start (spawn) or attach the target for this scenario. */
  startTarget(scenario: Scenario): Promise<Target>;
  /** True when the target runs on this host as a child process (limits apply to it too). */
  spawnedTarget: boolean;
  workers: number | undefined;
  /** Aborted with an InterruptedError on Ctrl-C. */
  signal: AbortSignal;
  progress: Progress;
  runTag: string;
  repeat: number;
  hostLimits: HostLimits;
}

const DRAIN_DEADLINE_MS = 10_000;

const RUNNERS: {
  [T in Scenario["type"]]: (api: RunnerApi<Extract<Scenario, { type: T }>>) => Promise<void>;
} = {
  burst: runBurst,
  stream: runStream,
  "timeout-storm": runTimeoutStorm,
  churn: runChurn,
  "set-throughput": runSetThroughput,
  "memory-sweep": runMemorySweep,
};

export async function runScenario(scenario: Scenario, ctx: RunContext): Promise<ScenarioResult> {
  const result: ScenarioResult = {
    scenario,
    target: "",
    repeat: ctx.repeat,
    complete: false,
    warnings: [],
    phases: [],
    metrics: [],
    histograms: {},
    timeseries: [],
    flags: { driverBound: false, driverBoundPhases: [], barrierApproximate: false },
    errorReasons: {},
  };
  const metric = (name: MetricName, value: number) => {
    result.metrics.push({ name, value: Math.round(value * 1000) / 1000, unit: METRICS[name].unit });
  };
  const phases = new PhaseRecorder(undefined, (p) => ctx.progress.phase(scenario.name, p));
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  let target: Target | undefined;
  let fleet: Fleet | undefined;
  let sampler: Sampler | undefined;
  let reportsTaken = false;
  let drained = false;

  // Every wait races against Ctrl-C and the target dying.
  let failWith: (error: Error) => void = () => {};
  const failure = new Promise<never>((_, reject) => {
    failWith = reject;
  });
  failure.catch(() => undefined);
  const onAbort = () => failWith(ctx.signal.reason as Error);
  if (ctx.signal.aborted) onAbort();
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  const guard = <T>(p: Promise<T>): Promise<T> => Promise.race([p, failure]);

  /** Merge the workers' reports into the result. After a failure, called unguarded: the workers still answer. */
  const takeReports = async (guarded = true): Promise<WorkerReport[]> => {
    if (!fleet) return [];
    const pending = fleet.reports();
    const reports = await (guarded ? guard(pending) : pending);
    reportsTaken = true;
    const merge = (pick: (r: WorkerReport) => string) => {
      const h = mergeEncoded(reports.map(pick));
      return h.totalCount > 0 ? encodeHistogram(h) : undefined;
    };
    const latency = merge((r) => r.latencyHistogram);
    const connect = merge((r) => r.connectHistogram);
    const lateness = merge((r) => r.latenessHistogram);
    if (latency) result.histograms.latency = latency;
    if (connect) result.histograms.connect = connect;
    if (lateness) result.histograms.lateness = lateness;
    for (const r of reports) {
      for (const [reason, n] of Object.entries(r.errorReasons)) {
        result.errorReasons[reason] = (result.errorReasons[reason] ?? 0) + n;
      }
    }
    return reports;
  };

  const readMemory = async (gc = false): Promise<TargetStats> => {
    const t = target as Target;
    const stats = (await t.stats(gc).catch(() => undefined)) ?? {};
    const proc = t.pid !== undefined ? readProcess(t.pid) : undefined;
    return proc ? { ...stats, rssBytes: proc.rssBytes } : stats;
  };

  const drain = async (): Promise<number | undefined> => {
    drained = true;
    if (!fleet || !target) return undefined;
    await guard(fleet.closeSockets());
    const t = target;
    const deadline = Date.now() + DRAIN_DEADLINE_MS;
    let left = (await guard(t.stats().catch(() => undefined)))?.waiters;
    while (left !== undefined && left > 0 && Date.now() < deadline) {
      ctx.progress.detail(`parked ${left}`);
      await guard(sleep(POLL_MS));
      left = (await guard(t.stats().catch(() => undefined)))?.waiters;
    }
    if (left !== undefined) metric("parked_after_drain", left);
    return left;
  };

  try {
    phases.begin("preflight");
    const workers = ctx.workers ?? defaultWorkerCount(socketsNeeded(scenario));
    result.warnings.push(
      ...preflight({ scenario, workers, spawnedTarget: ctx.spawnedTarget, limits: ctx.hostLimits }),
    );

    phases.begin("start");
    target = await guard(ctx.startTarget(scenario));
    const started = target;
    result.target = started.name;
    started.died.then((how) => failWith(new TargetError(`target died mid-run: ${how}`)));
    sampler = new Sampler({
      target: started,
      driverPids: () => fleet?.pids ?? [],
      driverEventLoopMaxMs: () => fleet?.eventLoop().maxMs ?? 0,
      phase: () => phases.current,
      elapsedMs: () => phases.elapsed(),
    });
    sampler.start();

    const api: RunnerApi = {
      scenario,
      target: started,
      phases,
      progress: ctx.progress,
      result,
      workers,
      runTag: ctx.runTag,
      repeat: ctx.repeat,
      guard,
      sleep,
      metric,
      async startFleet(plans: WorkerPlan[]) {
        if (fleet) throw new Error("one fleet per run");
        fleet = await guard(Fleet.start(plans));
        return fleet;
      },
      takeReports: () => takeReports(),
      readCpu: () => {
        const f = fleet;
        const driver = async () => (f ? (await guard(f.statuses())).map((s) => s.cpuUs) : []);
        return readCpu(started, driver);
      },
      readMemory,
      drain,
      async failIfTargetGone(status: WorkerStatus) {
        if (status.errors === 0) return;
        const gone = await guard(started.checkGone());
        if (gone !== undefined) throw new TargetError(`target died mid-run: ${gone}`);
      },
    };
    await (RUNNERS[scenario.type] as (api: RunnerApi) => Promise<void>)(api);

    if (fleet && !drained) {
      phases.begin("drain");
      await drain();
    }
    result.flags.driverBound = result.flags.driverBoundPhases.length > 0;
    metric("driver_bound", result.flags.driverBound ? 1 : 0);
    phases.begin("stop");
    result.complete = true;
  } catch (error) {
    result.error = describeError(error);
    if (fleet && !reportsTaken) {
      // Keep what the workers measured, if they can still say.
      await takeReports(false).catch(() => undefined);
    }
  } finally {
    ctx.signal.removeEventListener("abort", onAbort);
    sampler?.stop();
    await fleet?.stop().catch(() => undefined);
    await target?.stop().catch(() => undefined);
    phases.end();
    result.phases = phases.timings();
    result.timeseries = sampler?.rows ?? [];
    for (const t of result.phases) metric(`phase_${t.phase}_ms`, t.duration_ms);
  }
  return result;
}

function describeError(error: unknown): { code: string; message: string; exitCode: number } {
  if (error instanceof BenchError)
    return { code: error.code, message: error.message, exitCode: error.exitCode };
  const e = error as Error;
  return { code: "LPB_ERR_INTERNAL", message: e?.stack ?? String(error), exitCode: ExitCode.internal };
}
