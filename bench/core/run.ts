// One scenario run, whatever its type: preflight → start target → (the scenario's runner: connect,
// ready, fire, collect, ...) → drain → stop. The runner talks to a RunnerSession
// (scenario-run/runner-session.ts), which holds the fleet and drains; the load comes from a load
// source (scenario-run/load-source.ts: local workers or agents). Returns data (result.ts); printing and files are
// elsewhere. Whatever happens, what was measured is returned: a failed result carries its error and
// every figure recorded before it, so a dying target or Ctrl-C never loses results.

import { pinToCpus, type SchedPolicy } from "../child-process.ts";
import { BenchError, TargetError, UsageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import type { AgentPool } from "./agents/pool.ts";
import type { CpuPlacement } from "./choices.ts";
import { defaultWorkerCount } from "./driver/fleet.ts";
import { processTree } from "./metrics/proc.ts";
import { Sampler } from "./metrics/sampler.ts";
import { PhaseRecorder } from "./phases.ts";
import { type HostLimits, preflight } from "./preflight.ts";
import type { Progress } from "./progress.ts";
import type { RunFailure, ScenarioResult } from "./result.ts";
import type { RunnerApi, RunnerOutput } from "./runners/api.ts";
import { type Scenario, scenarioModule, socketsNeeded } from "./scenario.ts";
import { agentsLoad, localLoad } from "./scenario-run/load-source.ts";
import { Observations } from "./scenario-run/observations.ts";
import { RunGuard } from "./scenario-run/run-guard.ts";
import { RunnerSession } from "./scenario-run/runner-session.ts";
import type { Target } from "./targets/target.ts";
import type { Transport } from "./targets/transports.ts";
import { warmUpTarget } from "./warmup.ts";

export interface RunContext {
  /** The target's name, as the user chose it (the result's target from the start). */
  targetName: string;
  /** How the waiters hear of values (default long-poll). */
  transport?: Transport;
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

export async function runScenario(scenario: Scenario, ctx: RunContext): Promise<ScenarioResult> {
  const startedAtMs = Date.now();
  const seen = new Observations();
  const phases = new PhaseRecorder(undefined, (p) => ctx.progress.phase(scenario.name, p));
  const run = new RunGuard(ctx.signal);
  let target: Target | undefined;
  let session: RunnerSession | undefined;
  let sampler: Sampler | undefined;
  let output: RunnerOutput = {};
  let failure: RunFailure | undefined;
  try {
    phases.begin("preflight");
    const workers = await preflightRun(scenario, ctx, seen);
    phases.begin("start");
    target = await startTarget(scenario, ctx, run, seen);
    const started = target;
    sampler = new Sampler({
      target: started,
      driverPids: () => session?.fleet?.pids ?? [],
      driverEventLoopMaxMs: () => session?.fleet?.eventLoopMaxMs() ?? 0,
      phase: () => phases.current,
      elapsedMs: () => phases.elapsed(),
    });
    sampler.start();
    if (ctx.warmup) {
      phases.begin("warmup");
      const w = await run.guard(warmUpTarget(started, ctx.warmup, run.signal));
      seen.metric("warmup_answered", w.answered);
      if (w.shortfall) seen.warn(`${scenario.name}: warm-up fell short (${w.shortfall}); the run went on`);
    }
    session = new RunnerSession({
      scenario,
      target: started,
      phases,
      progress: ctx.progress,
      workers,
      runTag: ctx.runTag,
      repeat: ctx.repeat,
      warmedUpBy: ctx.warmup ?? 0,
      transport: ctx.transport ?? "long-poll",
      run,
      seen,
      load: ctx.agents ? agentsLoad(ctx.agents) : localLoad(ctx),
    });
    const runner = (await scenarioModule(scenario).loadRunner()) as (api: RunnerApi) => Promise<RunnerOutput>;
    output = await runner(session);
    await session.finish();
  } catch (error) {
    failure = describeError(error);
    await session?.salvage(error);
  } finally {
    run.dispose();
    sampler?.stop();
    await session?.fleet?.stop().catch(() => undefined);
    await target?.stop().catch(() => undefined);
    phases.end();
  }
  const timings = phases.timings();
  for (const t of timings) seen.metric(`phase_${t.phase}_ms`, t.duration_ms);
  const fields = {
    scenario,
    target: ctx.targetName,
    transport: ctx.transport ?? "long-poll",
    repeat: ctx.repeat,
    startedAtMs,
    ...(session?.agentResults ? { agents: session.agentResults } : {}),
    warnings: seen.warnings,
    phases: timings,
    metrics: seen.metrics,
    histograms: { ...seen.histograms, ...output.histograms },
    timeseries: sampler?.rows ?? [],
    ...(seen.deliveries ? { deliveries: seen.deliveries } : {}),
    ...(output.table ? { table: output.table } : {}),
    flags: seen.flags(output.streamMode),
    errorReasons: seen.errorReasons,
  };
  return failure ? { ...fields, state: "failed", error: failure } : { ...fields, state: "complete" };
}

/** The driver workers the run will use; what the host cannot give is a warning (or a refusal). */
async function preflightRun(scenario: Scenario, ctx: RunContext, seen: Observations): Promise<number> {
  const sockets = socketsNeeded(scenario);
  const workers =
    ctx.workers ?? (ctx.agents ? await ctx.agents.workerCount(sockets) : defaultWorkerCount(sockets));
  const checked = preflight({
    scenario,
    workers,
    targetProcesses: ctx.targetProcesses(sockets),
    targetHost: ctx.targetHost,
    limits: ctx.hostLimits,
    driverHere: ctx.agents === undefined,
  });
  for (const w of checked.warnings) seen.warn(w);
  return workers;
}

/** Start (or attach) the target, pinned where asked; its death fails the run at the next wait. */
async function startTarget(
  scenario: Scenario,
  ctx: RunContext,
  run: RunGuard,
  seen: Observations,
): Promise<Target> {
  const target = await run.guardStart(ctx.startTarget(scenario), (t) => t.stop());
  if (ctx.cpus?.target !== undefined && target.pid !== undefined) {
    try {
      pinToCpus(processTree(target.pid), ctx.cpus.target);
    } catch (error) {
      await target.stop().catch(() => undefined); // not yet the run's to stop: stop it here
      throw new UsageError(`--cpus: ${(error as Error).message}`);
    }
  }
  target.died.then((how) => run.failWith(new TargetError(`target died mid-run: ${how}`)));
  if (target.procMissing) seen.warn(`${scenario.name}: ${target.name}: ${target.procMissing}`);
  return target;
}

function describeError(error: unknown): RunFailure {
  if (error instanceof BenchError)
    return { code: error.code, message: error.message, exitCode: error.exitCode };
  const e = error as Error;
  return { code: "LPB_ERR_INTERNAL", message: e?.stack ?? String(error), exitCode: ExitCode.internal };
}

export { CLOCK_UNCERTAINTY_SHARE, clockUncertaintyWarning } from "./scenario-run/agents-part.ts";
