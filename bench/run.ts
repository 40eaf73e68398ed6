// The phases of one scenario run: preflight → start target → connect ramp → readiness barrier →
// fire → collect → drain → stop. Returns data (metrics, encoded histograms, timeseries, phase
// timings); printing and files are elsewhere. Whatever happens, what was measured is returned, with
// complete=false and the error, so a dying target or Ctrl-C never loses results.

import { arrivalSpanMs } from "./driver/arrival-schedule.ts";
import { defaultWorkerCount, Fleet } from "./driver/fleet.ts";
import type { WorkerReport, WorkerStatus } from "./driver/messages.ts";
import { BenchError, TargetError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";
import { METRICS, type MetricName, type Unit } from "./metrics/catalog.ts";
import { encodeHistogram, mergeEncoded, summarize } from "./metrics/histograms.ts";
import { listenCounters, readProcess } from "./metrics/proc.ts";
import { type CpuReading, readCpu, Sampler, type TimeseriesRow } from "./metrics/sampler.ts";
import type { Progress } from "./output/progress.ts";
import { PhaseRecorder, type PhaseTiming } from "./phases.ts";
import { resolvePlan } from "./plan.ts";
import { type HostLimits, preflight } from "./preflight.ts";
import type { Scenario } from "./scenario.ts";
import { runSets, type SetterResult } from "./setter.ts";
import type { Target, TargetStats } from "./targets/target.ts";

export interface Metric {
  name: MetricName;
  value: number;
  unit: Unit;
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
  /** Encoded HDR histograms (µs): notification latency and connect latency, merged over workers. */
  histograms: { latency?: string; connect?: string };
  timeseries: TimeseriesRow[];
  /**
   * driverBound: a driver worker was busy for more than half of a phase's wall time, so that phase's
   * figures may be the driver's, not the server's; driverBoundPhases says which ("connect", "fanout").
   */
  flags: { driverBound: boolean; driverBoundPhases: string[]; barrierApproximate: boolean };
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

const POLL_MS = 20;
/** A target that cannot count its waiters: after every request is written, wait this long. */
const APPROXIMATE_SETTLE_MS = 1_000;
const DRAIN_DEADLINE_MS = 10_000;
/** A worker busy for more than this share of a phase's wall time bounded the result. */
const DRIVER_BOUND_SHARE = 0.5;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nowNs = () => process.hrtime.bigint();
const msSince = (startNs: bigint) => Number(nowNs() - startNs) / 1e6;

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
  let target: Target | undefined;
  let fleet: Fleet | undefined;
  let sampler: Sampler | undefined;
  let reportsTaken = false;

  // Every wait below races against Ctrl-C and the target dying.
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
    const pending = (fleet as Fleet).reports();
    const reports = await (guarded ? guard(pending) : pending);
    reportsTaken = true;
    result.histograms.latency = encodeHistogram(mergeEncoded(reports.map((r) => r.latencyHistogram)));
    result.histograms.connect = encodeHistogram(mergeEncoded(reports.map((r) => r.connectHistogram)));
    for (const r of reports) {
      for (const [reason, n] of Object.entries(r.errorReasons)) {
        result.errorReasons[reason] = (result.errorReasons[reason] ?? 0) + n;
      }
    }
    return reports;
  };

  try {
    phases.begin("preflight");
    const workers = ctx.workers ?? defaultWorkerCount(scenario.waiters);
    result.warnings.push(
      ...preflight({ scenario, workers, spawnedTarget: ctx.spawnedTarget, limits: ctx.hostLimits }),
    );

    phases.begin("start");
    target = await guard(ctx.startTarget(scenario));
    result.target = target.name;
    target.died.then((how) => failWith(new TargetError(`target died mid-run: ${how}`)));
    const plan = resolvePlan(scenario, {
      workers,
      host: target.url.hostname,
      port: Number(target.url.port),
      adapter: target.adapter.name,
      runTag: ctx.runTag,
      repeat: ctx.repeat,
    });
    fleet = await guard(Fleet.start(plan.workers));
    const activeFleet = fleet;
    const driverCpu = async () => (await guard(activeFleet.statuses())).map((s) => s.cpuUs);
    const activeTarget = target;
    sampler = new Sampler({
      target,
      driverPids: () => activeFleet.pids,
      driverEventLoopMaxMs: () => activeFleet.eventLoop().maxMs,
      phase: () => phases.current,
      elapsedMs: () => phases.elapsed(),
    });
    sampler.start();
    const before = await guard(readMemory(target));
    const listenBefore = listenCounters();
    const cpuConnect0 = await readCpu(target, driverCpu);

    // Connect: every worker follows the schedule from one shared instant.
    phases.begin("connect");
    const startAtNs = nowNs() + 100_000_000n;
    fleet.begin(startAtNs);
    const windowMs = arrivalSpanMs(scenario.arrival, scenario.waiters);
    const parkedAtWindowEnd = (async () => {
      await sleep(Number(startAtNs - nowNs()) / 1e6 + windowMs);
      return (await activeTarget.stats().catch(() => undefined))?.waiters;
    })();
    let status: WorkerStatus = await guard(activeFleet.status());
    while (!fleet.arrivalsDone) {
      await guard(sleep(POLL_MS));
      status = await guard(fleet.status());
      ctx.progress.detail(`opened ${status.opened} / ${scenario.waiters}`);
    }

    // Ready: the target holds every waiter (its /stats says so), or, for a target that cannot
    // count, every request is written and unanswered, plus a settle delay (approximate).
    phases.begin("ready");
    const readyDeadline = nowNs() + BigInt(scenario.deadlines.ready_ms) * 1_000_000n;
    let parked: number | undefined;
    for (;;) {
      status = await guard(fleet.status());
      const stats = await guard(target.stats().catch(() => undefined));
      parked = stats?.waiters;
      ctx.progress.detail(`parked ${parked ?? "?"} / ${scenario.waiters}, written ${status.written}`);
      if (status.errors >= scenario.waiters) {
        const gone = await guard(target.checkGone());
        if (gone !== undefined) throw new TargetError(`target died mid-run: ${gone}`);
        await takeReports();
        throw new TargetError(
          `every waiter failed against ${target.name}: ${Object.entries(result.errorReasons)
            .map(([r, n]) => `${r} ×${n}`)
            .join(", ")}`,
        );
      }
      if (
        parked !== undefined ? parked >= scenario.waiters : status.written + status.errors >= scenario.waiters
      )
        break;
      if (nowNs() > readyDeadline) {
        result.warnings.push(
          `${scenario.name}: readiness deadline (${scenario.deadlines.ready_ms} ms) passed with ${parked ?? status.written} of ${scenario.waiters} waiters ${parked !== undefined ? "parked" : "written"}; fired anyway`,
        );
        break;
      }
      await guard(sleep(POLL_MS));
    }
    const allParkedMs = msSince(startAtNs);
    if (parked === undefined) {
      result.flags.barrierApproximate = true;
      await guard(sleep(APPROXIMATE_SETTLE_MS));
    }
    const listenAfter = listenCounters();
    const atReady = await guard(readMemory(target));
    const cpuReady = await readCpu(target, driverCpu);
    const connectWallMs =
      phases.elapsed() - (phases.timings().find((t) => t.phase === "connect")?.start_ms ?? 0);

    metric("waiters", scenario.waiters);
    if (scenario.arrival.type !== "all-at-once") {
      const atEnd = await guard(parkedAtWindowEnd);
      if (atEnd !== undefined) metric("parked_within_window", atEnd);
    }
    if (parked !== undefined) metric("parked_at_ready", parked);
    metric(result.flags.barrierApproximate ? "all_written_ms" : "all_parked_ms", allParkedMs);
    if (listenBefore && listenAfter) {
      metric("listen_overflows", listenAfter.overflows - listenBefore.overflows);
      metric("listen_drops", listenAfter.drops - listenBefore.drops);
    }
    if (before.rssBytes !== undefined && atReady.rssBytes !== undefined) {
      metric("target_rss_per_waiter_bytes", (atReady.rssBytes - before.rssBytes) / scenario.waiters);
    }
    if (before.heapUsedBytes !== undefined && atReady.heapUsedBytes !== undefined) {
      metric(
        "target_heap_per_waiter_bytes",
        (atReady.heapUsedBytes - before.heapUsedBytes) / scenario.waiters,
      );
    }
    const connectCpu = cpuDelta(cpuConnect0, cpuReady);
    if (connectCpu.targetMs !== undefined) metric("server_cpu_connect_ms", connectCpu.targetMs);
    metric("driver_cpu_connect_ms", connectCpu.driverMs);
    const connectShare = connectCpu.busiestWorkerMs / Math.max(1, connectWallMs);
    metric("driver_busy_share_connect", connectShare);
    if (connectShare > DRIVER_BOUND_SHARE) result.flags.driverBoundPhases.push("connect");

    let setter: SetterResult | undefined;
    let fanoutWallMs = 0;
    let cpuFanout: ReturnType<typeof cpuDelta> | undefined;
    let fireAtNs = 0n;
    if (plan.sets.length > 0) {
      phases.begin("fire");
      const fireStart = phases.elapsed();
      fireAtNs = nowNs() + 50_000_000n;
      setter = await guard(runSets({ url: target.url, adapter: target.adapter, sets: plan.sets, fireAtNs }));

      phases.begin("collect");
      const collectDeadline = fireAtNs + BigInt(scenario.deadlines.collect_ms) * 1_000_000n;
      for (;;) {
        status = await guard(fleet.status());
        ctx.progress.detail(`delivered ${status.delivered} / ${plan.expectedDeliveries}`);
        if (status.delivered + status.errors >= plan.expectedDeliveries) break;
        if (nowNs() > collectDeadline) {
          result.warnings.push(
            `${scenario.name}: collect deadline (${scenario.deadlines.collect_ms} ms) passed with ${status.delivered} of ${plan.expectedDeliveries} delivered`,
          );
          break;
        }
        await guard(sleep(POLL_MS));
      }
      cpuFanout = cpuDelta(cpuReady, await readCpu(target, driverCpu));
      fanoutWallMs = phases.elapsed() - fireStart;
      const fanoutShare = cpuFanout.busiestWorkerMs / Math.max(1, fanoutWallMs);
      metric("driver_busy_share_fanout", fanoutShare);
      if (fanoutShare > DRIVER_BOUND_SHARE) result.flags.driverBoundPhases.push("fanout");
    }

    if (status.errors > 0) {
      const gone = await guard(target.checkGone());
      if (gone !== undefined) throw new TargetError(`target died mid-run: ${gone}`);
    }
    const reports = await takeReports();
    const totals = reports.reduce(
      (acc, r) => {
        acc.delivered += r.delivered;
        acc.duplicates += r.duplicates;
        acc.timeouts += r.timeouts;
        acc.errors += r.errors;
        if (r.lastDeliveryNs !== undefined && BigInt(r.lastDeliveryNs) > acc.last)
          acc.last = BigInt(r.lastDeliveryNs);
        return acc;
      },
      { delivered: 0, duplicates: 0, timeouts: 0, errors: 0, last: 0n },
    );
    const connectSummary = summarize(mergeEncoded(reports.map((r) => r.connectHistogram)));
    metric("connect_p50_ms", connectSummary.p50_ms);
    metric("connect_p99_ms", connectSummary.p99_ms);
    metric("connect_max_ms", connectSummary.max_ms);
    metric("errors", totals.errors);
    metric("timeouts", totals.timeouts);
    if (setter) {
      const latency = summarize(mergeEncoded(reports.map((r) => r.latencyHistogram)));
      metric("expected", plan.expectedDeliveries);
      metric("delivered", totals.delivered);
      metric("missing", Math.max(0, plan.expectedDeliveries - totals.delivered));
      metric("duplicates", totals.duplicates);
      metric("latency_p50_ms", latency.p50_ms);
      metric("latency_p90_ms", latency.p90_ms);
      metric("latency_p99_ms", latency.p99_ms);
      metric("latency_p999_ms", latency.p999_ms);
      metric("latency_max_ms", latency.max_ms);
      if (totals.last > 0n) metric("time_to_last_delivery_ms", Number(totals.last - fireAtNs) / 1e6);
      metric("sets_sent", setter.sent);
      metric("set_errors", setter.errors);
      metric("set_lateness_max_ms", setter.lateness.maxValue / 1000);
      for (const [reason, n] of Object.entries(setter.errorReasons)) {
        result.errorReasons[`set: ${reason}`] = n;
      }
      if (cpuFanout) {
        if (cpuFanout.targetMs !== undefined) {
          metric("server_cpu_fanout_ms", cpuFanout.targetMs);
          metric(
            "server_cpu_per_notification_us",
            (cpuFanout.targetMs * 1000) / Math.max(1, totals.delivered),
          );
        }
        metric("driver_cpu_fanout_ms", cpuFanout.driverMs);
        metric("driver_cpu_per_notification_us", (cpuFanout.driverMs * 1000) / Math.max(1, totals.delivered));
      }
    }
    result.flags.driverBound = result.flags.driverBoundPhases.length > 0;
    metric("driver_bound", result.flags.driverBound ? 1 : 0);

    phases.begin("drain");
    await guard(fleet.closeSockets());
    const drainDeadline = Date.now() + DRAIN_DEADLINE_MS;
    let left = (await guard(target.stats().catch(() => undefined)))?.waiters;
    while (left !== undefined && left > 0 && Date.now() < drainDeadline) {
      ctx.progress.detail(`parked ${left}`);
      await guard(sleep(POLL_MS));
      left = (await guard(target.stats().catch(() => undefined)))?.waiters;
    }
    if (left !== undefined) metric("parked_after_drain", left);
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

async function readMemory(target: Target): Promise<TargetStats> {
  const stats = (await target.stats().catch(() => undefined)) ?? {};
  if (target.pid !== undefined) {
    const proc = readProcess(target.pid);
    if (proc) return { ...stats, rssBytes: proc.rssBytes };
  }
  return stats;
}

function cpuDelta(a: CpuReading, b: CpuReading) {
  const driverPer = b.driverUs.map((us, i) => us - (a.driverUs[i] ?? 0));
  return {
    targetMs:
      a.targetUs !== undefined && b.targetUs !== undefined ? (b.targetUs - a.targetUs) / 1000 : undefined,
    driverMs: driverPer.reduce((s, x) => s + x, 0) / 1000,
    busiestWorkerMs: Math.max(0, ...driverPer) / 1000,
  };
}

function describeError(error: unknown): { code: string; message: string; exitCode: number } {
  if (error instanceof BenchError)
    return { code: error.code, message: error.message, exitCode: error.exitCode };
  const e = error as Error;
  return { code: "LPB_ERR_INTERNAL", message: e?.stack ?? String(error), exitCode: ExitCode.internal };
}
