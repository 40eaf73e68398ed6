// One scenario run, whatever its type: preflight → start target → (the scenario's runner: connect,
// ready, fire, collect, ...) → drain → stop. Returns data (result.ts); printing and files are
// elsewhere. Whatever happens, what was measured is returned: a failed result carries its error and
// every figure recorded before it, so a dying target or Ctrl-C never loses results.

import { pinToCpus, type SchedPolicy, setSchedPolicy } from "../child-process.ts";
import { AgentsError, BenchError, TargetError, UsageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import type { AgentPool, AgentShare } from "./agents/pool.ts";
import type { CpuPlacement } from "./choices.ts";
import { defaultWorkerCount, Fleet } from "./driver/fleet.ts";
import type { WorkerPlan, WorkerReport, WorkerStatus } from "./driver/messages.ts";
import { planSources } from "./driver/source-addresses.ts";
import { type Aggregate, aggregateReports } from "./metrics/aggregate.ts";
import { METRICS, type MetricName } from "./metrics/catalog.ts";
import { readCpu } from "./metrics/cpu.ts";
import { decodeHistogram } from "./metrics/histograms.ts";
import { processTree } from "./metrics/proc.ts";
import { Sampler } from "./metrics/sampler.ts";
import { PhaseRecorder } from "./phases.ts";
import { type HostLimits, preflight } from "./preflight.ts";
import type { Progress } from "./progress.ts";
import type {
  AgentResult,
  Metric,
  ResultFlags,
  ResultHistograms,
  RunFailure,
  ScenarioResult,
} from "./result.ts";
import type { RunnerApi, RunnerOutput } from "./runners/api.ts";
import { POLL_MS } from "./runners/poll.ts";
import { recordLatency } from "./runners/record.ts";
import { type Scenario, scenarioModule, socketsNeeded } from "./scenario.ts";
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

/** What the run observes while the runner works; private to one run, read once into the result. */
interface Observed {
  metrics: Metric[];
  warnings: string[];
  driverBoundPhases: ResultFlags["driverBoundPhases"];
  barrierApproximate: boolean;
  histograms: ResultHistograms;
  errorReasons: Record<string, number>;
  /** What the target did that fails the run once it is measured (RunnerApi.targetFault). */
  targetFaults: string[];
}

export async function runScenario(scenario: Scenario, ctx: RunContext): Promise<ScenarioResult> {
  const startedAtMs = Date.now();
  const seen: Observed = {
    metrics: [],
    warnings: [],
    driverBoundPhases: [],
    barrierApproximate: false,
    histograms: {},
    errorReasons: {},
    targetFaults: [],
  };
  const metric = (name: MetricName, value: number) => {
    seen.metrics.push({ name, value: Math.round(value * 1000) / 1000, unit: METRICS[name].unit });
  };
  const countErrors = (reasons: Record<string, number>, prefix = "") => {
    for (const [reason, n] of Object.entries(reasons)) {
      const key = `${prefix}${reason}`;
      seen.errorReasons[key] = (seen.errorReasons[key] ?? 0) + n;
    }
  };
  const phases = new PhaseRecorder(undefined, (p) => ctx.progress.phase(scenario.name, p));
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  let target: Target | undefined;
  let fleet: Fleet | undefined;
  let sampler: Sampler | undefined;
  let reportsTaken = false;
  let drained = false;
  let output: RunnerOutput = {};
  let failure: RunFailure | undefined;
  /** Load from agents: each agent's part, and the waiters dealt to it. */
  let agentShares: AgentShare[] | undefined;
  let agentWaiters: Map<string, number> | undefined;
  let agentResults: AgentResult[] | undefined;

  // Every wait races against Ctrl-C and the target dying; loops that do not wait stop on stopSignal.
  const stop = new AbortController();
  let rejectFailed: (error: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    rejectFailed = reject;
  });
  const failWith = (error: Error) => {
    rejectFailed(error);
    if (!stop.signal.aborted) stop.abort(error);
  };
  failed.catch(() => undefined);
  const onAbort = () => failWith(ctx.signal.reason as Error);
  if (ctx.signal.aborted) onAbort();
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  const guard = <T>(p: Promise<T>): Promise<T> => Promise.race([p, failed]);
  // A start that Ctrl-C (or a dying target) overtakes: guard rejects at once, and whatever the start
  // still produces is stopped when it arrives, not left running with nobody to stop it (a fleet that
  // finished starting after the abort kept the harness alive with its workers).
  const guardStart = async <T>(
    starting: Promise<T>,
    stopIt: (started: T) => Promise<unknown>,
  ): Promise<T> => {
    try {
      return await guard(starting);
    } catch (error) {
      starting.then(
        (started) => stopIt(started).catch(() => undefined),
        () => undefined,
      );
      throw error;
    }
  };

  /** Aggregate the workers' reports once and keep them. After a failure, called unguarded: the workers still answer. */
  const takeReports = async (guarded = true): Promise<Aggregate> => {
    const pending = fleet ? fleet.reports() : Promise.resolve([]);
    const reports = await (guarded ? guard(pending) : pending);
    const aggregate = aggregateReports(reports);
    if (fleet && agentShares && !agentResults) {
      agentResults = perAgent(agentShares, agentWaiters, fleet.agents, reports);
      const clockWarning = clockUncertaintyWarning(scenario.name, agentResults, aggregate.histograms.latency);
      if (clockWarning) seen.warnings.push(clockWarning);
    }
    if (!reportsTaken) {
      reportsTaken = true;
      Object.assign(seen.histograms, aggregate.histograms);
      countErrors(aggregate.errorReasons);
      recordLatency(api as RunnerApi, "connect", aggregate.histograms.connect);
    }
    return aggregate;
  };

  const readMemory = async (gc = false): Promise<TargetStats> => {
    const t = target as Target;
    const stats = (await t.stats(gc).catch(() => undefined)) ?? {};
    const proc = t.procSample();
    return proc ? { ...stats, rssBytes: proc.rssBytes } : stats;
  };

  const drain = async (): Promise<number | undefined> => {
    drained = true;
    if (!fleet || !target) return undefined;
    const opened = (await guard(fleet.status())).opened;
    await guard(fleet.closeSockets());
    const t = target;
    const deadline = Date.now() + DRAIN_DEADLINE_MS;
    let left = (await guard(t.stats().catch(() => undefined)))?.waiters;
    // A count above the waiters opened cannot fall to 0 by waiting: no need to wait it out.
    while (left !== undefined && left > 0 && left <= opened && Date.now() < deadline) {
      ctx.progress.detail(`parked ${left}`);
      await guard(sleep(POLL_MS));
      left = (await guard(t.stats().catch(() => undefined)))?.waiters;
    }
    if (left !== undefined) {
      if (left > opened) {
        seen.warnings.push(
          `${scenario.name}: ${t.name}'s stats say ${left} parked after the drain, more than the ${opened} waiters this run opened: not a figure (the stats cannot be true)`,
        );
        return undefined;
      }
      metric("parked_after_drain", left);
      if (left > 0 && !scenarioModule(scenario).drainJudgedByItself) {
        seen.warnings.push(
          `${scenario.name}: LEAK: ${left} waiters still parked ${DRAIN_DEADLINE_MS / 1000} s after every client closed its connection`,
        );
      }
    }
    return left;
  };

  let api: RunnerApi | undefined;
  try {
    phases.begin("preflight");
    const workers =
      ctx.workers ??
      (ctx.agents
        ? await ctx.agents.workerCount(socketsNeeded(scenario))
        : defaultWorkerCount(socketsNeeded(scenario)));
    seen.warnings.push(
      ...preflight({
        scenario,
        workers,
        targetProcesses: ctx.targetProcesses(socketsNeeded(scenario)),
        targetHost: ctx.targetHost,
        limits: ctx.hostLimits,
        driverHere: ctx.agents === undefined,
      }).warnings,
    );

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
    started.died.then((how) => failWith(new TargetError(`target died mid-run: ${how}`)));
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
      const w = await guard(warmUpTarget(started, ctx.warmup, stop.signal));
      metric("warmup_answered", w.answered);
      if (w.shortfall)
        seen.warnings.push(`${scenario.name}: warm-up fell short (${w.shortfall}); the run went on`);
    }

    api = {
      scenario,
      target: started,
      phases,
      progress: ctx.progress,
      workers,
      runTag: ctx.runTag,
      repeat: ctx.repeat,
      warmedUpBy: ctx.warmup ?? 0,
      guard,
      stopSignal: stop.signal,
      sleep,
      metric,
      warn: (text) => seen.warnings.push(text),
      flagDriverBound: (phase) => {
        if (!seen.driverBoundPhases.includes(phase)) seen.driverBoundPhases.push(phase);
      },
      flagBarrierApproximate: () => {
        seen.barrierApproximate = true;
      },
      targetFault: (text) => {
        seen.warnings.push(text);
        seen.targetFaults.push(text);
      },
      countErrors,
      async startFleet(plans: WorkerPlan[]) {
        if (fleet) throw new Error("one fleet per run");
        if (ctx.agents) {
          // On agents: each brings its own source addresses and clock offset (agents/agent.ts).
          const { links, shares } = await guard(ctx.agents.links(plans.length));
          agentShares = shares;
          agentWaiters = new Map();
          links.forEach((link, i) => {
            const name = link.agent as string;
            agentWaiters?.set(name, (agentWaiters.get(name) ?? 0) + (plans[i]?.waiterKeys.length ?? 0));
          });
          fleet = await guardStart(Fleet.on(links, plans), (f) => f.stop());
          return fleet;
        }
        // Beyond one source address's ports, sockets are bound to further loopback addresses.
        const sockets = plans.reduce((n, p) => n + p.waiterKeys.length, 0);
        const sources = planSources(sockets, plans[0]?.host ?? ctx.targetHost, ctx.hostLimits.ephemeralPorts);
        for (const plan of plans) {
          plan.sourceAddresses = sources.addresses;
          plan.workers = plans.length;
        }
        fleet = await guardStart(Fleet.start(plans), (f) => f.stop());
        if (ctx.cpus?.driver !== undefined) {
          try {
            pinToCpus(fleet.pids, ctx.cpus.driver);
          } catch (error) {
            throw new UsageError(`--cpus: ${(error as Error).message}`);
          }
        }
        // Before any load: the workers are forked but have not opened a socket yet.
        if (ctx.driverSched === "batch") {
          try {
            setSchedPolicy(fleet.pids, "batch");
          } catch (error) {
            throw new UsageError(`--driver-sched: ${(error as Error).message}`);
          }
        }
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
    const runner = (await scenarioModule(scenario).loadRunner()) as (api: RunnerApi) => Promise<RunnerOutput>;
    output = await runner(api);

    if (fleet && !drained) {
      phases.begin("drain");
      await drain();
    }
    metric("driver_bound", seen.driverBoundPhases.length > 0 ? 1 : 0);
    phases.begin("stop");
    for (const fault of started.statsFaults()) api.targetFault(`${scenario.name}: ${started.name}: ${fault}`);
    if (seen.targetFaults.length > 0) throw new TargetError(seen.targetFaults.join("; "));
  } catch (error) {
    failure = describeError(error);
    // An agent lost mid-run: its waiters are the load generator's loss, not the server's misses.
    const lost = error instanceof AgentsError ? error.agent : undefined;
    if (lost !== undefined && agentWaiters?.has(lost))
      metric("load_generator_lost_waiters", agentWaiters.get(lost) as number);
    if (fleet && !reportsTaken && api) {
      // Keep what the workers measured, if they can still say.
      await takeReports(false).catch(() => undefined);
    }
  } finally {
    ctx.signal.removeEventListener("abort", onAbort);
    sampler?.stop();
    await fleet?.stop().catch(() => undefined);
    await target?.stop().catch(() => undefined);
    phases.end();
  }
  const timings = phases.timings();
  for (const t of timings) metric(`phase_${t.phase}_ms`, t.duration_ms);
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
    flags: {
      driverBound: seen.driverBoundPhases.length > 0,
      driverBoundPhases: seen.driverBoundPhases,
      barrierApproximate: seen.barrierApproximate,
      ...(output.streamMode ? { streamMode: output.streamMode } : {}),
    },
    errorReasons: seen.errorReasons,
  };
  return failure ? { ...fields, state: "failed", error: failure } : { ...fields, state: "complete" };
}

function describeError(error: unknown): RunFailure {
  if (error instanceof BenchError)
    return { code: error.code, message: error.message, exitCode: error.exitCode };
  const e = error as Error;
  return { code: "LPB_ERR_INTERNAL", message: e?.stack ?? String(error), exitCode: ExitCode.internal };
}

/** Each agent's part of the reports: its workers' reports aggregated as the whole run's are. */
function perAgent(
  shares: AgentShare[],
  waiters: Map<string, number> | undefined,
  agentOfWorker: (string | undefined)[],
  reports: WorkerReport[],
): AgentResult[] {
  return shares.map((share) => {
    const own = aggregateReports(reports.filter((_, i) => agentOfWorker[i] === share.name));
    const latency = own.histograms.latency;
    const h = latency ? decodeHistogram(latency) : undefined;
    return {
      name: share.name,
      workers: share.workers,
      waiters: waiters?.get(share.name) ?? 0,
      delivered: own.counts.delivered,
      errors: own.counts.errors,
      ...(latency && h
        ? {
            latency,
            latency_p50_ms: h.getValueAtPercentile(50) / 1000,
            latency_p99_ms: h.getValueAtPercentile(99) / 1000,
          }
        : {}),
      clock_offset_ms: share.clockOffsetMs,
      clock_uncertainty_ms: share.clockUncertaintyMs,
    };
  });
}

/** The share of the merged p50 latency an agent's clock uncertainty may reach before the run says so. */
export const CLOCK_UNCERTAINTY_SHARE = 0.05;

/** A warning when an agent's clock is known less well than 5% of the latencies it measured. */
export function clockUncertaintyWarning(
  scenario: string,
  agents: readonly AgentResult[],
  latency: string | undefined,
): string | undefined {
  if (!latency) return undefined;
  const p50Ms = decodeHistogram(latency).getValueAtPercentile(50) / 1000;
  const loose = agents.filter((a) => a.clock_uncertainty_ms > CLOCK_UNCERTAINTY_SHARE * p50Ms);
  if (loose.length === 0) return undefined;
  return `${scenario}: the clock offset of agent(s) ${loose.map((a) => `${a.name} (± ${a.clock_uncertainty_ms.toFixed(3)} ms)`).join(", ")} is uncertain by more than ${CLOCK_UNCERTAINTY_SHARE * 100}% of the p50 latency (${p50Ms.toFixed(3)} ms): latencies measured there may be off by that much`;
}
