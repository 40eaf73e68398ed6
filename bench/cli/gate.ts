// `npm run bench:ci`: the CI-sized suite against the reference server and the calibration server
// (interleaved), judged against results/baseline/ by its thresholds.json. A regression is re-run
// once to confirm before it fails the gate. Exit 0 pass, 1 confirmed regression, 2 bad thresholds
// or arguments, 3 target failed, 5 interrupted. Also writes gate.csv and benchmark.json
// (github-action-benchmark, customSmallerIsBetter) into the run folder.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { TargetError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import {
  BASELINE_DIR,
  benchmarkActionJson,
  evaluateGate,
  loadBaseline,
  loadThresholds,
  pacedNote,
  poolRuns,
} from "../gate.ts";
import { closingText, displayPath } from "../output/closing.ts";
import { fmtRatio, gateCsv, gateTable } from "../output/gate-table.ts";
import { createProgress } from "../output/progress.ts";
import { reportHtml } from "../output/report.ts";
import { createRunFolder, driverSchedOf, openRunFolder } from "../output/results-folder.ts";
import { readHostLimits } from "../preflight.ts";
import { loadRunFolder } from "../report/load.ts";
import { loadScenarios, suiteFiles } from "../scenario.ts";
import { runSession } from "../session.ts";
import { chooseTargets } from "../targets/choose.ts";
import { parseFlags, RUN_FLAGS, readRunFlags } from "./args.ts";
import { runCommand } from "./entry.ts";
import { interruptOnSignals } from "./signals.ts";

const USAGE = `usage: npm run bench:ci -- [scenario files...] [flags]

  --baseline DIR          baseline folder with run.json and thresholds.json (default results/baseline)
  --out DIR               results folder (default results/<run-id>)
  --repeat N              repeats per scenario and target (default: thresholds.json "repeat")
  --reference-args="..."  extra reference-server flags (e.g. --reference-args="--fault-wake-cost-us 50":
                          fault injection, for testing the gate only)
  --workers N             driver worker processes
  --driver-sched P        the driver workers' scheduling policy, batch or normal (default: the
                          baseline's, as recorded in its run.json; normal where it is not)
  --quiet                 no progress on stderr

Exit codes: 0 pass, 1 confirmed regression, 2 bad thresholds or arguments, 3 target failed,
5 interrupted, 70 internal error.`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, { ...RUN_FLAGS, baseline: { type: "string" } });
  const flags = readRunFlags(values);
  if (flags.help) {
    process.stdout.write(`${USAGE}\n`);
    return ExitCode.ok;
  }
  const baselineDir = (values.baseline as string | undefined) ?? BASELINE_DIR;
  const given = loadThresholds(join(baselineDir, "thresholds.json"));
  const baseline = loadBaseline(baselineDir);
  const repeat = flags.repeat ?? given.repeat;
  // Like with like: the driver runs under the policy the baseline was recorded with (runs recorded
  // before the policy was: normal), unless --driver-sched says otherwise.
  const baselineSched = driverSchedOf(baseline) ?? "normal";
  const driverSched = flags.driverSched ?? baselineSched;
  const files = positionals.length > 0 ? positionals : suiteFiles(given.suite);
  const scenarios = loadScenarios(files);
  const progress = createProgress(process.stderr, flags.quiet);
  const targets = chooseTargets(
    {
      target: undefined,
      profile: undefined,
      targets: [given.reference_target, given.calibration_target],
      referenceArgs: flags.referenceArgs,
      allowRemote: false,
    },
    progress,
  );
  const [judged, calibration] = targets;
  if (!judged || !calibration || targets.length !== 2) {
    throw new TargetError(
      `the gate needs both ${given.reference_target} and ${given.calibration_target}; only ${targets.map((t) => t.name).join(", ")} can run here`,
    );
  }
  // A target file in thresholds.json (your own server, gated in your CI) is judged by its name.
  const thresholds = { ...given, reference_target: judged.name, calibration_target: calibration.name };
  const hostLimits = readHostLimits();
  const signal = interruptOnSignals(progress);
  if (driverSched !== baselineSched)
    progress.line(
      `warning: the driver runs as ${driverSched}, the baseline was recorded with ${baselineSched}: figures may differ for that alone`,
    );
  const { runId, dir } = openRunFolder(flags.out);
  const session = (dirFor: string, which: typeof scenarios) =>
    runSession({
      scenarios: which,
      targets,
      repeat,
      workers: flags.workers,
      dir: dirFor,
      runId,
      command: argv,
      suite: positionals.length > 0 ? undefined : thresholds.suite,
      progress,
      signal,
      hostLimits,
      cpus: flags.cpus,
      driverSched,
    });

  const first = await session(dir, scenarios);
  progress.done();
  process.stdout.write(closingText(first.results, dir, first.complete, { report: first.report }));
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
  writeFileSync(join(dir, "gate.csv"), gateCsv(rows));
  writeFileSync(join(dir, "benchmark.json"), benchmarkActionJson(first.record, thresholds));
  // The report again, now with the gate's verdicts in it.
  if (first.report) writeFileSync(first.report, reportHtml([loadRunFolder(dir)]));
  const regressions = rows.filter((r) => r.verdict === "REGRESSION");
  const missing = rows.filter((r) => r.verdict === "no baseline").map((r) => r.scenario);
  process.stdout.write(`\n${gateTable(rows)}\n`);
  if (missing.length) process.stdout.write(`no baseline yet for: ${[...new Set(missing)].join(", ")}\n`);
  process.stdout.write(pacedNote(rows, thresholds));
  process.stdout.write(
    regressions.length
      ? `GATE FAILED: ${regressions.length} confirmed regression(s): ${regressions.map((r) => `${r.scenario} ${r.metric} ×${fmtRatio(r.ratio)}`).join(", ")}\n`
      : `gate passed against ${displayPath(baselineDir)}\n`,
  );
  return regressions.length ? ExitCode.regression : ExitCode.ok;
}

await runCommand("npm run bench:ci", main);
