// `npm run bench:ci`: the CI-sized suite against the reference server and the calibration server
// (interleaved), judged against results/baseline/ by its thresholds.json. A regression is re-run
// once to confirm before it fails the gate. Exit 0 pass, 1 confirmed regression, 2 bad thresholds
// or arguments, 3 target failed, 5 interrupted. Also writes gate.csv and benchmark.json
// (github-action-benchmark, customSmallerIsBetter) into the run folder.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { stringify } from "csv-stringify/sync";
import type { BenchOptions } from "./cli-args.ts";
import { chooseTargets, closingText, displayPath, interruptOnSignals, openRunFolder } from "./cli-common.ts";
import { BenchError, UsageError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";
import {
  BASELINE_DIR,
  benchmarkActionJson,
  evaluateGate,
  type GateRow,
  loadBaseline,
  loadThresholds,
  pacedNote,
  poolRuns,
} from "./gate.ts";
import { formatTable } from "./output/console.ts";
import { createProgress } from "./output/progress.ts";
import { createRunFolder } from "./output/results-folder.ts";
import { readHostLimits } from "./preflight.ts";
import { loadScenarios, suiteFiles } from "./scenario.ts";
import { runSession } from "./session.ts";

const USAGE = `usage: npm run bench:ci -- [scenario files...] [flags]

  --baseline DIR          baseline folder with run.json and thresholds.json (default results/baseline)
  --out DIR               results folder (default results/<run-id>)
  --repeat N              repeats per scenario and target (default: thresholds.json "repeat")
  --reference-args="..."  extra reference-server flags (e.g. --reference-args="--fault-wake-cost-us 50":
                          fault injection, for testing the gate only)
  --workers N             driver worker processes
  --quiet                 no progress on stderr`;

const GATE_COLUMNS = [
  "scenario",
  "metric",
  "normalized",
  "baseline_median",
  "current_median",
  "ratio",
  "ci_low",
  "ci_high",
  "limit",
  "verdict",
  "paced",
] as const;

const fmt = (v: number | "") => (v === "" || !Number.isFinite(v) ? "-" : v.toFixed(3));

function gateTable(rows: GateRow[]): string {
  return formatTable([
    ["scenario", "metric", "judged as", "baseline", "current", "ratio", "95% CI", "limit", "verdict"],
    ...rows.map((r) => [
      r.scenario,
      r.metric,
      r.normalized ? "÷ calibration" : "as is",
      fmt(r.baseline_median),
      fmt(r.current_median),
      fmt(r.ratio),
      r.ci_low === "" ? "-" : `${fmt(r.ci_low)}–${fmt(r.ci_high)}`,
      r.limit,
      r.verdict,
    ]),
  ]);
}

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        baseline: { type: "string" },
        out: { type: "string" },
        repeat: { type: "string" },
        "reference-args": { type: "string" },
        workers: { type: "string" },
        quiet: { type: "boolean" },
        help: { type: "boolean" },
      },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}; see --help`);
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  if (v.help) {
    process.stdout.write(`${USAGE}\n`);
    return ExitCode.ok;
  }
  const baselineDir = (v.baseline as string | undefined) ?? BASELINE_DIR;
  const thresholds = loadThresholds(join(baselineDir, "thresholds.json"));
  const baseline = loadBaseline(baselineDir);
  const repeat = v.repeat === undefined ? thresholds.repeat : Number(v.repeat);
  if (!Number.isInteger(repeat) || repeat < 1)
    throw new UsageError(`--repeat must be a whole number ≥ 1, got "${v.repeat}"`);
  const workers = v.workers === undefined ? undefined : Number(v.workers);
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 1)) {
    throw new UsageError(`--workers must be a whole number ≥ 1, got "${v.workers}"`);
  }
  const files = parsed.positionals.length > 0 ? parsed.positionals : suiteFiles(thresholds.suite);
  const scenarios = loadScenarios(files);
  const progress = createProgress(process.stderr, v.quiet === true);
  const options: BenchOptions = {
    help: false,
    list: false,
    quiet: v.quiet === true,
    files,
    suite: undefined,
    out: undefined,
    target: undefined,
    targets: [thresholds.reference_target, thresholds.calibration_target],
    referenceArgs: ((v["reference-args"] as string | undefined) ?? "").split(/\s+/).filter(Boolean),
    workers,
    repeat,
  };
  const targets = chooseTargets(options, progress);
  const hostLimits = readHostLimits();
  const signal = interruptOnSignals(progress);
  const { runId, dir } = openRunFolder(v.out as string | undefined);
  const session = (dirFor: string, which: typeof scenarios) =>
    runSession({
      scenarios: which,
      targets,
      repeat,
      workers,
      dir: dirFor,
      runId,
      command: argv,
      suite: parsed.positionals.length > 0 ? undefined : thresholds.suite,
      progress,
      signal,
      hostLimits,
    });

  const first = await session(dir, scenarios);
  progress.done();
  process.stdout.write(closingText(first.results, dir, first.complete));
  if (first.exitCode !== ExitCode.ok) return first.exitCode;
  let rows = evaluateGate(baseline, first.record, thresholds);
  const suspects = new Set(rows.filter((r) => r.verdict === "REGRESSION").map((r) => r.scenario));
  if (suspects.size > 0) {
    process.stdout.write(
      `\n${gateTable(rows)}\n\nregression suspected in ${[...suspects].join(", ")}: re-running to confirm\n`,
    );
    const confirmDir = createRunFolder(join(dir, "confirm"));
    const again = await session(
      confirmDir,
      scenarios.filter((s) => suspects.has(s.name)),
    );
    progress.done();
    if (again.exitCode !== ExitCode.ok) return again.exitCode;
    // The re-run's repeats join the first run's: twice the samples, a narrower interval. A noise
    // spike rarely survives that; a real regression stands out more clearly.
    const confirmRows = evaluateGate(baseline, poolRuns(first.record, again.record), thresholds);
    rows = rows.map((r) => {
      if (r.verdict !== "REGRESSION") return r;
      const confirmed = confirmRows.find((c) => c.scenario === r.scenario && c.metric === r.metric);
      return confirmed ?? r;
    });
  }
  writeFileSync(join(dir, "gate.csv"), stringify(rows, { header: true, columns: [...GATE_COLUMNS] }));
  writeFileSync(join(dir, "benchmark.json"), benchmarkActionJson(first.record, thresholds));
  const regressions = rows.filter((r) => r.verdict === "REGRESSION");
  const missing = rows.filter((r) => r.verdict === "no baseline").map((r) => r.scenario);
  process.stdout.write(`\n${gateTable(rows)}\n`);
  if (missing.length) process.stdout.write(`no baseline yet for: ${[...new Set(missing)].join(", ")}\n`);
  process.stdout.write(pacedNote(rows, thresholds));
  process.stdout.write(
    regressions.length
      ? `GATE FAILED: ${regressions.length} confirmed regression(s): ${regressions.map((r) => `${r.scenario} ${r.metric} ×${fmt(r.ratio)}`).join(", ")}\n`
      : `gate passed against ${displayPath(baselineDir)}\n`,
  );
  return regressions.length ? ExitCode.regression : ExitCode.ok;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`longpoll-bench gate: ${(error as Error).message}\n`);
  process.exitCode = error instanceof BenchError ? error.exitCode : ExitCode.internal;
}
