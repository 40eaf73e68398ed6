// The run folder: results/<run-id>/ with run.json, summary.csv, latency-<scenario>.csv,
// timeseries-<scenario>.csv and <scenario>.hlog. A folder is never overwritten: an existing,
// non-empty folder is refused, and a new one is claimed for one run (CLAIM_FILE). Files are rewritten after every scenario, so whatever was measured
// before a crash or Ctrl-C is on disk.

import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { availableParallelism, hostname, release, totalmem } from "node:os";
import { join } from "node:path";
import { UsageError } from "../errors.ts";
import { cpuModel } from "../metrics/proc.ts";
import type { HostLimits } from "../preflight.ts";
import { type AgentResult, failureOf, isComplete, type RunFailure, type ScenarioResult } from "../result.ts";
import type { Scenario } from "../scenario.ts";
import { latencyCsv, summaryCsv, tableCsv, timeseriesCsv } from "./csv.ts";
import { hlogText } from "./hlog.ts";
import { isDirectory, writeNewFile } from "./new-files.ts";
import { sideBySideCsv, targetsOf } from "./side-by-side.ts";

export const RESULTS_ROOT = new URL("../../results/", import.meta.url).pathname;

export function newRunId(date = new Date()): string {
  const stamp = date.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `${stamp}-${Math.random().toString(36).slice(2, 6)}`;
}

/** A new run id and its folder: --out DIR, or results/<run-id>. */
export function openRunFolder(out: string | undefined): { runId: string; dir: string } {
  const runId = newRunId();
  return { runId, dir: createRunFolder(out ?? join(RESULTS_ROOT, runId), runId) };
}

/** The file that claims a run folder for one run (new-files.ts: created exclusively). */
export const CLAIM_FILE = ".longpoll-bench-run";

/**
 * Create the run folder and claim it; refuse one that exists with files in it, or that another run
 * claimed a moment ago (two runs started on one new --out: the second is refused, exit 2, rather
 * than both writing run.json there).
 */
export function createRunFolder(dir: string, runId = newRunId()): string {
  const refuse = () =>
    new UsageError(
      `--out ${dir}: the folder exists and is not empty; results are never overwritten, name a new folder`,
    );
  if (isDirectory(dir, "--out") && readdirSync(dir).length > 0) throw refuse();
  mkdirSync(dir, { recursive: true });
  try {
    writeNewFile(join(dir, CLAIM_FILE), `${runId} pid ${process.pid}\n`, "--out");
  } catch {
    throw refuse();
  }
  return dir;
}

export interface Environment {
  node: string;
  platform: string;
  kernel: string;
  cpu_model: string;
  cores: number;
  memory_bytes: number;
  hostname: string;
  host_limits: HostLimits;
  git_commit: string | undefined;
  git_dirty: boolean | undefined;
}

function git(args: string[]): string | undefined {
  try {
    return execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return undefined;
  }
}

export function environment(hostLimits: HostLimits): Environment {
  const status = git(["status", "--porcelain", "--untracked-files=no"]);
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    kernel: release(),
    cpu_model: cpuModel(),
    cores: availableParallelism(),
    memory_bytes: totalmem(),
    hostname: hostname(),
    host_limits: hostLimits,
    git_commit: git(["rev-parse", "HEAD"]),
    git_dirty: status === undefined ? undefined : status.length > 0,
  };
}

/** A run's driver policy: as recorded, normal when absent (made before it was); null: on agents. */
export function driverSchedOf(run: Pick<RunRecord, "driver_sched">): "batch" | "normal" | null {
  return run.driver_sched === undefined ? "normal" : run.driver_sched;
}

export interface RunRecord {
  tool: "longpoll-bench";
  run_id: string;
  started_at: string;
  finished_at: string | undefined;
  complete: boolean;
  exit_code: number | undefined;
  command: string[];
  /** The suite that was run, where one was named (the gate looks for its own). */
  suite: string | undefined;
  environment: Environment;
  targets: string[];
  /** Each target's protocol profile, in full (absent in runs made before profiles existed). */
  target_profiles?: Record<string, unknown>;
  /** CPU pinning (--cpus): taskset lists for the target and the driver; null when not pinned. */
  cpus?: { target?: string; driver?: string } | null;
  /**
   * The driver workers' scheduling policy (--driver-sched); null when they ran on agents. Absent in
   * runs made before it was recorded: those ran as normal.
   */
  driver_sched?: "batch" | "normal" | null;
  /** Waiters that warmed each target up before its measured phases (--warmup); 0: none. */
  warmup?: number;
  repeat: number;
  scenarios: Scenario[];
  /** Scenario × target pairs not run, and why (a protocol that cannot run that type). */
  skipped: string[];
  /** A pooled baseline: the run ids it was made of (npm run baseline:update with several runs). */
  pooled_from?: string[];
  results: {
    scenario: string;
    target: string;
    repeat: number;
    complete: boolean;
    error?: RunFailure;
    warnings: string[];
    flags: ScenarioResult["flags"];
    phases: ScenarioResult["phases"];
    metrics: Record<string, number>;
    error_reasons: Record<string, number>;
    /** Load from agents: each one's part (its histogram is in the .hlog, tagged with its name). */
    agents?: Omit<AgentResult, "latency">[];
  }[];
}

export function runRecord(base: Omit<RunRecord, "results">, results: readonly ScenarioResult[]): RunRecord {
  return { ...base, results: results.map(recordedResult) };
}

/** One scenario run as run.json holds it. */
export function recordedResult(r: ScenarioResult): RunRecord["results"][number] {
  return {
    scenario: r.scenario.name,
    target: r.target,
    repeat: r.repeat,
    complete: isComplete(r),
    ...(failureOf(r) ? { error: failureOf(r) } : {}),
    warnings: r.warnings,
    flags: r.flags,
    phases: r.phases,
    metrics: Object.fromEntries(r.metrics.map((m) => [m.name, m.value])),
    error_reasons: r.errorReasons,
    ...(r.agents ? { agents: r.agents.map(({ latency: _, ...rest }) => rest) } : {}),
  };
}

/** Write every file of the run from the results so far. */
export function writeRunFolder(
  dir: string,
  record: RunRecord,
  results: ScenarioResult[],
  startedAtMs: number,
): void {
  writeFileSync(join(dir, "run.json"), `${JSON.stringify(record, null, 2)}\n`);
  writeFileSync(join(dir, "summary.csv"), summaryCsv(results));
  if (targetsOf(results).length > 1) writeFileSync(join(dir, "peers.csv"), sideBySideCsv(results));
  const names = [...new Set(results.map((r) => r.scenario.name))];
  for (const name of names) {
    const of = results.filter((r) => r.scenario.name === name);
    writeFileSync(join(dir, `latency-${name}.csv`), latencyCsv(of));
    writeFileSync(join(dir, `timeseries-${name}.csv`), timeseriesCsv(of));
    writeFileSync(join(dir, `${name}.hlog`), hlogText(of, startedAtMs));
    const tables = of.filter((r) => r.table);
    if (tables.length) writeFileSync(join(dir, `${name}.csv`), tableCsv(tables));
  }
}
