// The run record (run.json): its type, how one is assembled from a session's results, and how one
// is read back and checked. The one module that owns it: the session writes it (through
// output/results-folder.ts, beside the CSVs), and compare, the gate, the studies and the report read
// it here. A run.json is checked before use: a malformed one is exit 2 naming the field.

import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { availableParallelism, hostname, release, totalmem } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { UsageError } from "../errors.ts";
import { cpuModel } from "./metrics/proc.ts";
import type { HostLimits } from "./preflight.ts";
import { type AgentResult, failureOf, isComplete, type RunFailure, type ScenarioResult } from "./result.ts";
import type { Scenario } from "./scenario.ts";
import type { ThresholdVerdict } from "./verdict/thresholds.ts";

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
  /** A pooled baseline: the run ids it was made of (npm run baseline with several runs). */
  pooled_from?: string[];
  /**
   * Every threshold judged at the end of the run, per scenario and target (verdict/thresholds.ts);
   * absent while the run goes on, and in runs made before thresholds existed.
   */
  thresholds?: ThresholdVerdict[];
  results: {
    scenario: string;
    target: string;
    /** How the waiters heard of values (absent in runs made before transports: long-poll). */
    transport?: string;
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
    transport: r.transport ?? "long-poll",
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

export function readRunRecord(dir: string): RunRecord {
  const file = join(dir, "run.json");
  if (!existsSync(file))
    throw new UsageError(`${dir}: no run.json here; name a results folder written by npm run bench`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new UsageError(`${file}: not valid JSON (${(error as Error).message})`);
  }
  dropNegativeSlopes(raw);
  const parsed = RunFileSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .slice(0, 10)
      .map((i) => `  - ${i.path.length ? i.path.join(".") : "(top level)"}: ${i.message}`);
    throw new UsageError(`${file} is not a run.json written by npm run bench:\n${problems.join("\n")}`);
  }
  return raw as RunRecord;
}

/**
 * Runs made before memory-sweep kept a falling fit out of its figures (metrics/memory-fit.ts) may
 * hold a negative bytes-per-waiter slope: not a measurement, and not damage either. It is read as
 * what it is now: absent.
 */
function dropNegativeSlopes(raw: unknown): void {
  const results = (raw as { results?: unknown } | null)?.results;
  if (!Array.isArray(results)) return;
  for (const r of results) {
    const metrics = (r as { metrics?: unknown } | null)?.metrics;
    if (typeof metrics !== "object" || metrics === null) continue;
    const m = metrics as Record<string, unknown>;
    for (const [slope, r2] of [
      ["memory_slope_rss_bytes_per_waiter", "memory_fit_r2_rss"],
      ["memory_slope_heap_bytes_per_waiter", "memory_fit_r2_heap"],
    ] as const) {
      const value = m[slope];
      if (typeof value === "number" && value < 0) {
        delete m[slope];
        delete m[r2];
      }
    }
  }
}

/**
 * What compare, the gate and baseline read of a run.json, checked before use (a malformed
 * file is exit 2 naming the field, not an internal error). Other fields are kept as they are.
 */
const RunFileSchema = z.looseObject({
  run_id: z.string().optional(),
  suite: z.string().optional().nullable(),
  complete: z.boolean().optional(),
  repeat: z.number().int().nonnegative().optional(),
  results: z.array(
    z.looseObject({
      scenario: z.string(),
      target: z.string(),
      repeat: z.number().int().nonnegative(),
      complete: z.boolean(),
      // Every metric is a count, a time, a size or a share: a negative one is a damaged file.
      metrics: z.record(z.string(), z.number().nonnegative()),
    }),
  ),
});
