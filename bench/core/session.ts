// A session: scenarios × targets × repeats into one results folder. Repeats are the outer loop and
// targets the inner one, so machine drift during a long run hits every target alike. The folder is
// rewritten after every scenario run; nothing measured is lost to a later failure.
// The gate drives it round by round instead: the targets' order alternates from one repeat to the
// next (so neither side always runs first, on a cooler or warmer machine), and after each repeat it
// says which scenarios the next one needs (none: the session ends).

import { canSetSchedPolicy, type SchedPolicy } from "../child-process.ts";
import { ExitCode } from "../exit-codes.ts";
import type { AgentPool } from "./agents/pool.ts";
import type { CpuPlacement } from "./choices.ts";
import { DEFAULT_DRIVER_SCHED } from "./driver/fleet.ts";
import { expectedDurationMs } from "./estimate.ts";
import type { HostLimits } from "./preflight.ts";
import type { Progress } from "./progress.ts";
import { failureOf, isComplete, type ScenarioResult } from "./result.ts";
import { runScenario } from "./run.ts";
import { environment, type RunRecord, runRecord } from "./run-record.ts";
import { type Scenario, scenarioModule } from "./scenario.ts";
import type { StartPlace } from "./targets/command.ts";
import type { Profile } from "./targets/profile.ts";
import { profileTransports, pushAdapterFromProfile } from "./targets/push-adapter.ts";
import type { Target } from "./targets/target.ts";
import type { Transport } from "./targets/transports.ts";
import { judgeThresholds, type Threshold } from "./verdict/thresholds.ts";

export interface TargetChoice {
  name: string;
  /** Its protocol profile (recorded in run.json, content and all, so a result can be reproduced). */
  profile: Profile;
  /** Scenario types it can run; others are skipped with a note. */
  supports: readonly Scenario["type"][];
  /** Runs here as a child process (our host limits apply to it). */
  spawned: boolean;
  /** Spawned: the processes that share its sockets for a scenario of this many (default 1). */
  processes?: (sockets: number) => number;
  /** The address the driver connects to (default 127.0.0.1, where spawned targets listen). */
  host?: string;
  /** Start it for one scenario run; `runDir` is where a failing target's output is kept. */
  start(scenario: Scenario, place: StartPlace): Promise<Target>;
  /** Its target file's thresholds (verdict/thresholds.ts), for every scenario it runs. */
  thresholds?: readonly Threshold[];
  /** One cell of --transports: this target over this transport (its name says which). */
  transport?: Transport;
}

/** The transport a target runs a scenario over: its own (--transports), else the scenario's, else long-poll. */
export function transportOf(target: TargetChoice, scenario: Scenario): Transport {
  return target.transport ?? scenario.transport ?? "long-poll";
}

/** Why a target cannot run a scenario (the run is skipped with this note), or undefined. */
export function cannotRun(target: TargetChoice, scenario: Scenario): string | undefined {
  if (!target.supports.includes(scenario.type)) return `its protocol cannot run a ${scenario.type} scenario`;
  const transport = transportOf(target, scenario);
  if (transport === "long-poll")
    return target.profile.wait !== undefined
      ? undefined
      : `its profile "${target.profile.name}" has no long poll (no "wait"): run it with --transports sse or websocket`;
  if (scenarioModule(scenario).push !== true)
    return `a ${scenario.type} scenario runs over long-poll only, not ${transport}`;
  if (!profileTransports(target.profile).includes(transport))
    return `its profile "${target.profile.name}" offers no ${transport} transport (the profile's "transports", docs/transports.md)`;
  return scenarioModule(scenario).cannotRunOver?.(scenario, {
    profile: target.profile.name,
    transport,
    resumes: pushAdapterFromProfile(target.profile, transport).hasCursor,
  });
}

/** The processes of a spawned target that share its sockets; undefined for an attached one. */
export function targetProcesses(target: TargetChoice, sockets: number): number | undefined {
  return target.spawned ? (target.processes?.(sockets) ?? 1) : undefined;
}

/**
 * Where a session's results go. The core says when (after every scenario run, so nothing measured is
 * lost to a later failure; and at the end); an output module says how (the run folder's files).
 */
export interface ResultsSink {
  write(record: RunRecord, results: ScenarioResult[], startedAtMs: number): void;
  /** The last write; returns the report's path where one was drawn. */
  finish(record: RunRecord, results: ScenarioResult[], startedAtMs: number): string | undefined;
}

export interface SessionOptions {
  scenarios: Scenario[];
  targets: TargetChoice[];
  repeat: number;
  workers: number | undefined;
  /** The run folder (a failing command target's output is kept there). */
  dir: string;
  /** Where the results go: after every scenario run, and once at the end (output/run-folder.ts). */
  sink: ResultsSink;
  runId: string;
  command: string[];
  suite: string | undefined;
  progress: Progress;
  signal: AbortSignal;
  hostLimits: HostLimits;
  /** CPU pinning of target and driver (--cpus), recorded in run.json. */
  cpus?: CpuPlacement | undefined;
  /** Load from agents (--agents): the driver workers run on them. */
  agents?: AgentPool | undefined;
  /** Warm-up waiters before each run's measured phases (--warmup), recorded in run.json. */
  warmup?: number | undefined;
  /** The driver workers' scheduling policy (--driver-sched); default batch where chrt can set it. */
  driverSched?: SchedPolicy | undefined;
  /** Thresholds from the command line (--threshold); the defaults and the files' come with scenarios and targets. */
  thresholds?: readonly Threshold[];
  /** Reverse the targets' order on every other repeat (the gate's paired rounds). */
  alternateOrder?: boolean;
  /**
   * Called after each repeat (`repeat` is the maximum): the scenarios the next repeat runs, in the
   * session's order; none ends the session. Without it every repeat runs every scenario.
   */
  nextRepeat?: (results: readonly ScenarioResult[], done: number) => readonly Scenario[];
}

export interface SessionOutcome {
  results: ScenarioResult[];
  exitCode: number;
  complete: boolean;
  record: RunRecord;
  /** The run's report.html, unless it could not be built (the results are on disk either way). */
  report: string | undefined;
}

/**
 * The policy the driver workers of this host run under: the one asked for (default batch), but
 * normal where it cannot be set (no chrt, not Linux); null when the workers run on agents.
 */
function driverSchedFor(o: SessionOptions): SchedPolicy | null {
  if (o.agents !== undefined) return null;
  const wanted = o.driverSched ?? DEFAULT_DRIVER_SCHED;
  if (wanted === "normal" || canSetSchedPolicy()) return wanted;
  if (o.driverSched !== undefined)
    o.progress.line(
      "warning: --driver-sched batch needs Linux and chrt (util-linux); the driver runs as normal",
    );
  return "normal";
}

export async function runSession(o: SessionOptions): Promise<SessionOutcome> {
  const startedAtMs = Date.now();
  const skipped: string[] = [];
  const driverSched = driverSchedFor(o);
  const base: Omit<RunRecord, "results"> = {
    tool: "longpoll-bench",
    run_id: o.runId,
    started_at: new Date(startedAtMs).toISOString(),
    finished_at: undefined,
    complete: false,
    exit_code: undefined,
    command: o.command,
    suite: o.suite,
    environment: environment(o.hostLimits),
    targets: o.targets.map((t) => t.name),
    target_profiles: Object.fromEntries(o.targets.map((t) => [t.name, t.profile])),
    cpus: o.cpus ?? null,
    driver_sched: driverSched,
    warmup: o.warmup ?? 0,
    repeat: o.repeat,
    scenarios: o.scenarios,
    skipped,
  };
  const results: ScenarioResult[] = [];
  const failedTargets = new Set<string>();
  const runTag = o.runId.slice(-4);
  let exitCode: number = ExitCode.ok;
  // The runs to come, for the live status's n/N and ETA.
  const planned = o.scenarios.flatMap((scenario) =>
    o.targets.filter((t) => cannotRun(t, scenario) === undefined).map(() => expectedDurationMs(scenario)),
  );
  const total = planned.length * o.repeat;
  let remainingMs = planned.reduce((a, b) => a + b, 0) * o.repeat;
  // The schedules say how long runs should take; the runs so far say how long they take here: the
  // ETA scales what remains by that ratio once a run has finished.
  let scheduledDoneMs = 0;
  let tookMs = 0;
  const eta = (ms: number) => (scheduledDoneMs > 0 ? Math.round((ms * tookMs) / scheduledDoneMs) : ms);
  let index = 0;
  let scenarios: readonly Scenario[] = o.scenarios;
  outer: for (let repeat = 0; repeat < o.repeat; repeat++) {
    if (repeat > 0 && o.nextRepeat) {
      scenarios = o.nextRepeat(results, repeat);
      if (scenarios.length === 0) break;
    }
    const targets = o.alternateOrder && repeat % 2 === 1 ? [...o.targets].reverse() : o.targets;
    for (const scenario of scenarios) {
      for (const target of targets) {
        if (failedTargets.has(target.name)) continue;
        const cannot = cannotRun(target, scenario);
        if (cannot !== undefined) {
          if (repeat === 0) {
            const why = `${scenario.name} @${target.name}: skipped: ${cannot}`;
            skipped.push(why);
            o.progress.line(why);
          }
          continue;
        }
        const expectedMs = expectedDurationMs(scenario);
        o.progress.runStart({
          index: ++index,
          total,
          scenario: scenario.name,
          target: target.name,
          repeat,
          repeats: o.repeat,
          etaMs: eta(remainingMs),
          expectedMs: eta(expectedMs),
        });
        remainingMs -= expectedMs;
        const runStartedMs = Date.now();
        const result = await runScenario(scenario, {
          targetName: target.name,
          transport: transportOf(target, scenario),
          startTarget: (sc) => target.start(sc, { runDir: o.dir }),
          targetProcesses: (sockets) => targetProcesses(target, sockets),
          targetHost: target.host ?? "127.0.0.1",
          workers: o.workers,
          signal: o.signal,
          progress: o.progress,
          runTag,
          repeat,
          hostLimits: o.hostLimits,
          cpus: o.cpus,
          driverSched: driverSched ?? undefined,
          agents: o.agents,
          warmup: o.warmup,
        });
        results.push(result);
        scheduledDoneMs += expectedMs;
        tookMs += Date.now() - runStartedMs;
        o.sink.write(runRecord(base, results), results, startedAtMs);
        const failure = failureOf(result);
        if (!failure) continue;
        o.progress.line(`${scenario.name} @${target.name}: ${failure.message}`);
        if (exitCode === ExitCode.ok) exitCode = failure.exitCode;
        if (failure.exitCode === ExitCode.interrupted) break outer;
        // A failing target is dropped from the rest of the session; the others go on.
        failedTargets.add(target.name);
        if (failedTargets.size === o.targets.length) break outer;
      }
    }
  }
  const complete = exitCode === ExitCode.ok && results.every(isComplete);
  const thresholds = judgeThresholds(
    results.map((r) => ({
      scenario: r.scenario,
      target: r.target,
      metrics: Object.fromEntries(r.metrics.map((m) => [m.name, m.value])),
    })),
    (name) => o.targets.find((t) => t.name === name)?.thresholds ?? [],
    o.thresholds ?? [],
  );
  // Measured in full, judged failed: its own exit code. A run that failed otherwise keeps its code.
  if (exitCode === ExitCode.ok && thresholds.some((t) => !t.pass)) exitCode = ExitCode.thresholdFailed;
  const record = runRecord(
    { ...base, finished_at: new Date().toISOString(), complete, exit_code: exitCode, thresholds },
    results,
  );
  const report = o.sink.finish(record, results, startedAtMs);
  return { results, exitCode, complete, record, report };
}
