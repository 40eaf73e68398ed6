// `npm run baseline:update -- [RUN_DIR]`: promote a complete gate run to results/baseline/ (run.json,
// summary.csv, latency-*.csv). Without RUN_DIR, the newest complete run of the gate's suite.
// thresholds.json in the baseline folder is kept as it is.

import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadRun } from "./compare.ts";
import { BenchError, UsageError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";
import { BASELINE_DIR, loadThresholds } from "./gate.ts";
import { RESULTS_ROOT } from "./output/results-folder.ts";

function newestRun(suite: string): string {
  const candidates = existsSync(RESULTS_ROOT)
    ? readdirSync(RESULTS_ROOT)
        .map((name) => join(RESULTS_ROOT, name))
        .filter((dir) => dir !== BASELINE_DIR.replace(/\/$/, "") && existsSync(join(dir, "run.json")))
        .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)
    : [];
  for (const dir of candidates) {
    const run = loadRun(dir);
    if (run.suite === suite && run.complete) return dir;
  }
  throw new UsageError(
    `no complete run of suite "${suite}" under results/; run npm run bench:ci first, or name a folder`,
  );
}

function main(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { baseline: { type: "string" } },
  });
  const baselineDir = values.baseline ?? BASELINE_DIR;
  const thresholds = loadThresholds(join(baselineDir, "thresholds.json"));
  const runDir = positionals[0] ?? newestRun(thresholds.suite);
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
  mkdirSync(baselineDir, { recursive: true });
  const files = readdirSync(runDir).filter(
    (f) => f === "run.json" || f === "summary.csv" || /^latency-.*\.csv$/.test(f),
  );
  for (const f of files) copyFileSync(join(runDir, f), join(baselineDir, f));
  process.stdout.write(`baseline updated from ${runDir}: ${files.join(", ")} → ${baselineDir}\n`);
  return ExitCode.ok;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`longpoll-bench baseline:update: ${(error as Error).message}\n`);
  process.exitCode = error instanceof BenchError ? error.exitCode : ExitCode.internal;
}
