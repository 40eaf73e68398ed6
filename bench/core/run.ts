// One scenario run, whatever its type: preflight → start target → (the scenario's runner: connect,
// ready, fire, collect, ...) → drain → stop. Returns data (result.ts); printing and files are
// elsewhere. Whatever happens, what was measured is returned: a failed result carries its error and
// every figure recorded before it, so a dying target or Ctrl-C never loses results.

import { pinToCpus, type SchedPolicy } from "../child-process.ts";
import { AgentsError, BenchError, TargetError, UsageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import type { AgentPool } from "./agents/pool.ts";
import type { CpuPlacement } from "./choices.ts";
import { defaultWorkerCount, type Fleet } from "./driver/fleet.ts";
import type { WorkerPlan, WorkerStatus } from "./driver/messages.ts";
import { type Aggregate, aggregateWorkerResults } from "./metrics/aggregate.ts";
import { readCpu } from "./metrics/cpu.ts";
import { processTree } from "./metrics/proc.ts";
import { Sampler } from "./metrics/sampler.ts";
import { PhaseRecorder } from "./phases.ts";
import { type HostLimits, preflight } from "./preflight.ts";
import type { Progress } from "./progress.ts";
import type { AgentResult, RunFailure, ScenarioResult } from "./result.ts";
import type { RunnerApi, RunnerOutput } from "./runners/api.ts";
import { POLL_MS } from "./runners/poll.ts";
import { recordLatency } from "./runners/record.ts";
import { type Scenario, scenarioModule, socketsNeeded } from "./scenario.ts";
import { clockUncertaintyWarning, perAgent } from "./scenario-run/agents-part.ts";
import { agentsLoad, localLoad, type StartedLoad } from "./scenario-run/load-source.ts";
import { Observations } from "./scenario-run/observations.ts";
import { RunGuard } from "./scenario-run/run-guard.ts";
import type { Target, TargetStats } from "./targets/target.ts";
import { warmUpTarget } from "./warmup.ts";

export interface RunContext {
  /** The target's name, as the user chose it (the result's target from the start). */
  targetName: string;
  /** Start (spawn) or attach the target for this scenario. */
  startTarget(scenario: Scenario): Promise<Target>;
  /** Processes of the target that run here and share its sockets (our limits apply); undefined: attached. */
  targetProcesses(sockets: number): number | undefined;
  /** The address the driver connects to. */
  targetHost: string;
  workers: number | undefined;
  /** Aborted with an InterruptedError on Ctrl-C. */
  signal: AbortSignal;
  progress: Progress;
  runTag: string;
  repeat: number;
  hostLimits: HostLimits;
  /** Pin the target and the driver workers to CPUs (--cpus). */
  cpus?: CpuPlacement | undefined;
  /** The scheduling policy of the driver workers on this host (--driver-sched); absent: normal. */
  driverSched?: SchedPolicy | undefined;
  /** Load from agents on other machines (--agents): the driver workers run there. */
  agents?: AgentPool | undefined;
  /** Waiters that warm the target up before the measured phases (--warmup); none when 0 or absent. */
  warmup?: number | undefined;
}

const DRAIN_DEADLINE_MS = 10_000;

export async function runScenario(scenario: Scenario, ctx: RunContext): Promise<ScenarioResult> {
  const startedAtMs = Date.now();
  const seen = new Observations();
  const phases = new PhaseRecorder(undefined, (p) => ctx.progress.phase(scenario.name, p));
  const run = new RunGuard(ctx.signal);
  const { guard, guardStart } = run;
  const load = ctx.agents ? agentsLoad(ctx.agents) : localLoad(ctx);
  let target: Target | undefined;
  let fleet: Fleet | undefined;
  let agents: StartedLoad["agents"];
  let agentResults: AgentResult[] | undefined;
  let sampler: Sampler | undefined;
  let reportsTaken = false;
  let drained = false;
  let output: RunnerOutput = {};
  let failure: RunFailure | undefined;

  /** Aggregate the workers' results once and keep them. After a failure, called unguarded: the workers still answer. */
  const takeReports = async (guarded = true): Promise<Aggregate> => {
    const pending = fleet ? fleet.results() : Promise.resolve([]);
    const reports = await (guarded ? guard(pending) : pending);
    const aggregate = aggregateWorkerResults(reports);
    if (fleet && agents && !agentResults) {
      agentResults = perAgent(agents.shares, agents.waiters, fleet.agents, reports);
      const clockWarning = clockUncertaintyWarning(scenario.name, agentResults, aggregate.histograms.latency);
      if (clockWarning) seen.warn(clockWarning);
    }
    if (!reportsTaken) {
      reportsTaken = true;
      Object.assign(seen.histograms, aggregate.histograms);
      seen.countErrors(aggregate.errorReasons);
      recordLatency(seen, "connect", aggregate.histograms.connect);
    }
    return aggregate;
  };

  const drain = async (): Promise<number | undefined> => {
    drained = true;
    if (!fleet || !target) return undefined;
    return drainTarget(scenario, target, fleet, seen, guard, ctx.progress);
  };

  try {
    phases.begin("preflight");
    const sockets = socketsNeeded(scenario);
    const workers =
      ctx.workers ?? (ctx.agents ? await ctx.agents.workerCount(sockets) : defaultWorkerCount(sockets));
    for (const w of preflight({
      scenario,
      workers,
      targetProcesses: ctx.targetProcesses(sockets),
      targetHost: ctx.targetHost,
      limits: ctx.hostLimits,
      driverHere: ctx.agents === undefined,
    }).warnings)
      seen.warn(w);

    phases.begin("start");
    target = await guardStart(ctx.startTarget(scenario), (t) => t.stop());
    const started = target;
    if (ctx.cpus?.target !== undefined && started.pid !== undefined) {
      try {
        pinToCpus(processTree(started.pid), ctx.cpus.target);
      } catch (error) {
        throw new UsageError(`--cpus: ${(error as Error).message}`);
      }
    }
    started.died.then((how) => run.failWith(new TargetError(`target died mid-run: ${how}`)));
    sampler = new Sampler({
      target: started,
      driverPids: () => fleet?.pids ?? [],
      driverEventLoopMaxMs: () => fleet?.eventLoopMaxMs() ?? 0,
      phase: () => phases.current,
      elapsedMs: () => phases.elapsed(),
    });
    sampler.start();
    if (ctx.warmup) {
      phases.begin("warmup");
      const w = await guard(warmUpTarget(started, ctx.warmup, run.signal));
      seen.metric("warmup_answered", w.answered);
      if (w.shortfall) seen.warn(`${scenario.name}: warm-up fell short (${w.shortfall}); the run went on`);
    }

    const api: RunnerApi = {
      scenario,
      target: started,
      phases,
      progress: ctx.progress,
      workers,
      runTag: ctx.runTag,
      repeat: ctx.repeat,
      warmedUpBy: ctx.warmup ?? 0,
      guard,
      stopSignal: run.signal,
      sleep,
      metric: seen.metric,
      warn: seen.warn,
      flagDriverBound: seen.flagDriverBound,
      flagBarrierApproximate: seen.flagBarrierApproximate,
      targetFault: seen.targetFault,
      countErrors: seen.countErrors,
      async startFleet(plans: WorkerPlan[]) {
        if (fleet) throw new Error("one fleet per run");
        const startedLoad = await load.start(plans, guard, guardStart, (dealt) => {
          agents = dealt;
        });
        fleet = startedLoad.fleet;
        agents = startedLoad.agents;
        return fleet;
      },
      takeReports: () => takeReports(),
      readCpu: () => {
        const f = fleet;
        const driver = async () => (f ? (await guard(f.statuses())).map((s) => s.cpuUs) : []);
        return readCpu(started, driver);
      },
      readMemory: (gc = false) => readMemory(started, gc),
      drain,
      async failIfTargetGone(status: WorkerStatus) {
        if (status.errors === 0) return;
        const gone = await guard(started.checkGone());
        if (gone !== undefined) throw new TargetError(`target died mid-run: ${gone}`);
      },
    };
    const runner = (await scenarioModule(scenario).loadRunner()) as (api: RunnerApi) => Promise<RunnerOutput>;
    output = await runner(api);

    if (fleet && !drained) {
      phases.begin("drain");
      await drain();
    }
    seen.metric("driver_bound", seen.driverBoundPhases.length > 0 ? 1 : 0);
    phases.begin("stop");
    for (const fault of started.statsFaults())
      seen.targetFault(`${scenario.name}: ${started.name}: ${fault}`);
    if (seen.targetFaults.length > 0) throw new TargetError(seen.targetFaults.join("; "));
  } catch (error) {
    failure = describeError(error);
    // An agent lost mid-run: its waiters are the load generator's loss, not the server's misses.
    const lost = error instanceof AgentsError ? error.agent : undefined;
    if (lost !== undefined && agents?.waiters.has(lost))
      seen.metric("load_generator_lost_waiters", agents.waiters.get(lost) as number);
    if (fleet && !reportsTaken) {
      // Keep what the workers measured, if they can still say.
      await takeReports(false).catch(() => undefined);
    }
  } finally {
    run.dispose();
    sampler?.stop();
    await fleet?.stop().catch(() => undefined);
    await target?.stop().catch(() => undefined);
    phases.end();
  }
  const timings = phases.timings();
  for (const t of timings) seen.metric(`phase_${t.phase}_ms`, t.duration_ms);
  const fields = {
    scenario,
    target: ctx.targetName,
    repeat: ctx.repeat,
    startedAtMs,
    ...(agentResults ? { agents: agentResults } : {}),
    warnings: seen.warnings,
    phases: timings,
    metrics: seen.metrics,
    histograms: { ...seen.histograms, ...output.histograms },
    timeseries: sampler?.rows ?? [],
    ...(output.table ? { table: output.table } : {}),
    flags: seen.flags(output.streamMode),
    errorReasons: seen.errorReasons,
  };
  return failure ? { ...fields, state: "failed", error: failure } : { ...fields, state: "complete" };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The target's memory now: its stats page's figures, RSS from /proc where it runs here. */
async function readMemory(target: Target, gc: boolean): Promise<TargetStats> {
  const stats = (await target.stats(gc).catch(() => undefined)) ?? {};
  const proc = target.procSample();
  return proc ? { ...stats, rssBytes: proc.rssBytes } : stats;
}

/**
 * Close every waiter socket and wait until the target holds none (or DRAIN_DEADLINE_MS passes):
 * parked_after_drain, and a LEAK warning where waiters stayed (unless the type judges that itself).
 */
async function drainTarget(
  scenario: Scenario,
  target: Target,
  fleet: Fleet,
  seen: Observations,
  guard: <T>(p: Promise<T>) => Promise<T>,
  progress: RunContext["progress"],
): Promise<number | undefined> {
  const opened = (await guard(fleet.status())).opened;
  await guard(fleet.closeSockets());
  const deadline = Date.now() + DRAIN_DEADLINE_MS;
  let left = (await guard(target.stats().catch(() => undefined)))?.waiters;
  // A count above the waiters opened cannot fall to 0 by waiting: no need to wait it out.
  while (left !== undefined && left > 0 && left <= opened && Date.now() < deadline) {
    progress.detail(`parked ${left}`);
    await guard(sleep(POLL_MS));
    left = (await guard(target.stats().catch(() => undefined)))?.waiters;
  }
  if (left === undefined) return undefined;
  if (left > opened) {
    seen.warn(
      `${scenario.name}: ${target.name}'s stats say ${left} parked after the drain, more than the ${opened} waiters this run opened: not a figure (the stats cannot be true)`,
    );
    return undefined;
  }
  seen.metric("parked_after_drain", left);
  if (left > 0 && !scenarioModule(scenario).drainJudgedByItself) {
    seen.warn(
      `${scenario.name}: LEAK: ${left} waiters still parked ${DRAIN_DEADLINE_MS / 1000} s after every client closed its connection`,
    );
  }
  return left;
}

function describeError(error: unknown): RunFailure {
  if (error instanceof BenchError)
    return { code: error.code, message: error.message, exitCode: error.exitCode };
  const e = error as Error;
  return { code: "LPB_ERR_INTERNAL", message: e?.stack ?? String(error), exitCode: ExitCode.internal };
}

export { CLOCK_UNCERTAINTY_SHARE, clockUncertaintyWarning } from "./scenario-run/agents-part.ts";
