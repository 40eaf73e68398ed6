// `npm run baseline:update -- [RUN_DIR...] [--last N]`: promote complete gate runs to
// results/baseline/. One run is copied (run.json, summary.csv, latency-*.csv). Several are pooled into
// one run.json, repeats numbered on (as the gate's confirmation pools its re-run): runs made at
// different times put the machine's run-to-run drift into the baseline, so its medians sit in the
// middle of what unchanged code measures instead of wherever one run happened to land. Without
// RUN_DIR, the newest (--last N: the N newest) complete runs of the gate's suite.
// thresholds.json in the baseline folder is kept as it is.

import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadRun } from "../compare.ts";
import { UsageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { BASELINE_DIR, loadThresholds, poolRuns, type Thresholds } from "../gate.ts";
import { driverSchedOf, RESULTS_ROOT, type RunRecord } from "../output/results-folder.ts";
import { parseFlags, positiveInt } from "./args.ts";
import { runCommand } from "./entry.ts";

const USAGE = `usage: npm run baseline:update -- [RUN_DIR...] [--last N] [--baseline DIR]

Promotes complete bench:ci runs to the gate's baseline folder (default results/baseline). One run is
copied (run.json, summary.csv, latency-*.csv); several are pooled into one run.json, repeats numbered
on. Without RUN_DIR: the newest complete run of the gate's suite (--last N: the N newest, pooled).
A pooled baseline is not replaced by a single run unless --force is given.
thresholds.json in the baseline folder is kept as it is.`;

const BASELINE_FILE = (f: string) => f === "run.json" || f === "summary.csv" || /^latency-.*\.csv$/.test(f);

function newestRuns(suite: string, count: number): string[] {
  const candidates = existsSync(RESULTS_ROOT)
    ? readdirSync(RESULTS_ROOT)
        .map((name) => join(RESULTS_ROOT, name))
        .filter((dir) => dir !== BASELINE_DIR.replace(/\/$/, "") && existsSync(join(dir, "run.json")))
        .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)
    : [];
  const found = candidates.filter((dir) => {
    const run = loadRun(dir);
    return run.suite === suite && run.complete;
  });
  if (found.length < count) {
    throw new UsageError(
      `${found.length} complete run(s) of suite "${suite}" under results/, ${count} wanted; run npm run bench:ci first, or name folders`,
    );
  }
  return found.slice(0, count).reverse();
}

function main(argv: string[]): number {
  const { values, positionals } = parseFlags(argv, {
    baseline: { type: "string" },
    last: { type: "string" },
    force: { type: "boolean" },
    help: { type: "boolean" },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return ExitCode.ok;
  }
  const baselineDir = (values.baseline as string | undefined) ?? BASELINE_DIR;
  const thresholds = loadThresholds(join(baselineDir, "thresholds.json"));
  const last = positiveInt("last", values.last, 1000);
  if (last !== undefined && positionals.length > 0) {
    throw new UsageError("name run folders or give --last N, not both");
  }
  const runDirs = positionals.length > 0 ? positionals : newestRuns(thresholds.suite, last ?? 1);
  const itself = runDirs.find((dir) => resolve(dir) === resolve(baselineDir));
  if (itself) throw new UsageError(`${itself} is the baseline folder itself; name the runs to promote`);
  const runs = runDirs.map((dir) => checkedRun(dir, thresholds));
  // Pooled repeats must be alike: the driver's policy alone moves figures (README "How a run works").
  const policies = runs.map((r) => driverSchedOf(r) ?? "normal");
  if (new Set(policies).size > 1) {
    throw new UsageError(
      `the runs were made with the driver under different scheduling policies (${policies.map((p, i) => `${runDirs[i]}: ${p}`).join(", ")}); pool runs made alike (--driver-sched)`,
    );
  }
  // A pooled baseline holds many runs' spread; one run in its place is a step back, made on purpose only.
  const current = existsSync(join(baselineDir, "run.json")) ? loadRun(baselineDir) : undefined;
  if (runs.length === 1 && current?.pooled_from && values.force !== true) {
    throw new UsageError(
      `${baselineDir} holds a baseline pooled from ${current.pooled_from.length} runs; replacing it with one run loses that spread: pool several (--last N) or pass --force`,
    );
  }
  mkdirSync(baselineDir, { recursive: true });
  // The earlier baseline's files go first: its CSVs would not match the new run.json.
  for (const f of readdirSync(baselineDir).filter(BASELINE_FILE)) rmSync(join(baselineDir, f));
  if (runs.length === 1) {
    const runDir = runDirs[0] as string;
    const files = readdirSync(runDir).filter(BASELINE_FILE);
    for (const f of files) copyFileSync(join(runDir, f), join(baselineDir, f));
    process.stdout.write(`baseline updated from ${runDir}: ${files.join(", ")} → ${baselineDir}\n`);
    return ExitCode.ok;
  }
  // Pooled: one run.json (per-run CSVs do not pool).
  const pooled = pool(runs);
  writeFileSync(join(baselineDir, "run.json"), `${JSON.stringify(pooled, null, 2)}\n`);
  process.stdout.write(
    `baseline updated: ${runs.length} runs pooled (${pooled.repeat} repeats per scenario and target) from ${runDirs.join(", ")} → ${join(baselineDir, "run.json")}\n`,
  );
  return ExitCode.ok;
}

/** A complete run with results for both of the gate's targets, or a usage error naming the gap. */
function checkedRun(runDir: string, thresholds: Thresholds): RunRecord {
  const run = loadRun(runDir);
  if (!run.complete)
    throw new UsageError(`${runDir} is incomplete; only a complete run can become the baseline`);
  for (const target of [thresholds.reference_target, thresholds.calibration_target]) {
    if (!run.results.some((r) => r.target === target)) {
      throw new UsageError(
        `${runDir} has no results for target "${target}"; the gate needs both ${thresholds.reference_target} and ${thresholds.calibration_target}`,
      );
    }
  }
  return run;
}

/** Several runs as one record: repeats numbered on, the sources named in pooled_from. */
function pool(runs: RunRecord[]): RunRecord {
  const [first, ...rest] = runs as [RunRecord, ...RunRecord[]];
  const pooled = rest.reduce(poolRuns, first);
  return {
    ...pooled,
    repeat: runs.reduce((sum, r) => sum + r.repeat, 0),
    pooled_from: runs.map((r) => r.run_id),
  };
}

await runCommand("npm run baseline:update", main);
