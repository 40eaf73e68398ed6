// `npm run gate`: the regression gate. The base commit (results/baseline/base.json, or --base
// REF) is checked out in a worktree and its server runs beside this checkout's, on this machine, in
// paired rounds: every scenario of the gate's suite once on each side, the order alternating from
// round to round. After the minimum rounds, rounds go on (only for the scenarios that need them)
// while a judged metric's interval straddles its limit, until the budget is spent. Verdicts per
// metric: regression, improvement, unchanged, unresolved (bench/analysis/gate/verdicts.ts). Writes gate.csv,
// gate.md (also appended to $GITHUB_STEP_SUMMARY) and benchmark.json into the run folder.
// Exit 0 pass, 1 regression (or unresolved with --strict), 2 bad thresholds or arguments, 3 target
// failed, 5 interrupted.

import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { age, checkoutBase, headCommit, resolveCommit } from "../analysis/gate/base-checkout.ts";
import { BASELINE_DIR, loadBasePointer, loadThresholds } from "../analysis/gate/config.ts";
import { gateTargets } from "../analysis/gate/targets.ts";
import {
  benchmarkActionJson,
  type GateRow,
  judgeRounds,
  undecidedScenarios,
} from "../analysis/gate/verdicts.ts";
import { loadRunFolder } from "../analysis/run-folders.ts";
import { readHostLimits } from "../core/preflight.ts";
import type { ScenarioResult } from "../core/result.ts";
import { recordedResult } from "../core/run-record.ts";
import { loadScenarios, type Scenario, suiteFiles } from "../core/scenario.ts";
import { runSession } from "../core/session.ts";
import { UsageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { closingText, displayPath } from "../output/closing.ts";
import {
  fmtRatio,
  type GateSummary,
  gateCsv,
  gateFooter,
  gateHeader,
  gateMarkdown,
  gateOutcomeLine,
  gateTable,
} from "../output/gate-table.ts";
import { createProgress } from "../output/progress.ts";
import { reportHtml } from "../output/report.ts";
import { folderSink, openRunFolder } from "../output/results-folder.ts";
import { median } from "../statistics/bootstrap.ts";
import { parseFlags, positiveInt, RUN_FLAGS, readRunFlags } from "./args.ts";
import { runCommand } from "./entry.ts";
import { interruptOnSignals } from "./signals.ts";

const USAGE = `usage: npm run gate -- [scenario files...] [flags]

Measures the base commit's server and this checkout's side by side, in paired rounds, until every
judged metric is decided or the budget is spent.

  --base REF              the commit to compare with: a branch, tag, HEAD~1, a commit id, the merge
                          base of a pull request (default: the one results/baseline/base.json names)
  --budget-s N            seconds of rounds after which no new round starts (default: thresholds.json
                          "budget_s")
  --min-rounds N          rounds before any verdict (default: thresholds.json "min_rounds"; at least 6)
  --max-rounds N          rounds at most (default: thresholds.json "max_rounds")
  --strict                an unresolved metric fails the gate too
  --baseline DIR          folder with thresholds.json and base.json (default results/baseline)
  --out DIR               results folder (default results/<run-id>)
  --reference-args="..."  extra flags for the head's reference server only (e.g.
                          --reference-args="--fault-wake-cost-us 20": fault injection, to prove the
                          gate fails)
  --workers N             driver worker processes
  --driver-sched P        the driver workers' scheduling policy, batch or normal (default batch)
  --cpus target=L,driver=L  pin both sides' servers and the driver (taskset lists)
  --quiet                 no progress on stderr

Accept an intended change: npm run baseline (moves base.json to HEAD), then commit it.

Exit codes: 0 pass, 1 regression (or unresolved with --strict), 2 bad thresholds or arguments,
3 target failed, 5 interrupted, 70 internal error.`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    ...RUN_FLAGS,
    baseline: { type: "string" },
    base: { type: "string" },
    "budget-s": { type: "string" },
    "min-rounds": { type: "string" },
    "max-rounds": { type: "string" },
    strict: { type: "boolean" },
  });
  const flags = readRunFlags(values);
  if (flags.help) {
    process.stdout.write(`${USAGE}\n`);
    return ExitCode.ok;
  }
  if (flags.repeat !== undefined)
    throw new UsageError(
      "the gate runs paired rounds until its verdicts are decided: --min-rounds, --max-rounds and --budget-s set how many, not --repeat",
    );
  const configDir = (values.baseline as string | undefined) ?? BASELINE_DIR;
  const thresholds = loadThresholds(join(configDir, "thresholds.json"));
  const minRounds =
    positiveInt("min-rounds", values["min-rounds"] as string | undefined, 200) ?? thresholds.min_rounds;
  if (minRounds < 6)
    throw new UsageError("--min-rounds: at least 6 (fewer paired rounds cannot bound a 95% interval)");
  const maxRounds = Math.max(
    minRounds,
    positiveInt("max-rounds", values["max-rounds"] as string | undefined, 200) ?? thresholds.max_rounds,
  );
  const budgetS =
    positiveInt("budget-s", values["budget-s"] as string | undefined, 86_400) ?? thresholds.budget_s;
  const strict = values.strict === true;
  const baseRef = (values.base as string | undefined) ?? loadBasePointer(configDir).commit;
  const files = positionals.length > 0 ? positionals : suiteFiles(thresholds.suite);
  const scenarios = loadScenarios(files);
  const progress = createProgress(process.stderr, flags.quiet);

  const baseCommit = resolveCommit(baseRef);
  const head = headCommit();
  const base = checkoutBase(baseCommit, progress);
  const targets = gateTargets(thresholds.target, base.dir, flags.referenceArgs);
  const hostLimits = readHostLimits();
  const signal = interruptOnSignals(progress);
  const { runId, dir } = openRunFolder(flags.out);

  // Rounds: the first min-rounds run every scenario; then only those with a metric still
  // unresolved, while the budget has room for one more round of them.
  const startedMs = Date.now();
  let stoppedBecause = `the most rounds (${maxRounds})`;
  const nextRepeat = (results: readonly ScenarioResult[], done: number): readonly Scenario[] => {
    if (done < minRounds) return scenarios;
    const rows = judgeRounds({ results: results.map(recordedResult) }, thresholds);
    const undecided = undecidedScenarios(rows);
    if (undecided.size === 0) {
      stoppedBecause = "every judged metric decided";
      return [];
    }
    const next = scenarios.filter((s) => undecided.has(s.name));
    const roundMs = roundDurations(results);
    // A round's expected time per scenario: the median of its rounds so far, plus 10% slack.
    const needMs = next.reduce((sum, s) => sum + 1.1 * median(roundMs.get(s.name) ?? [0]), 0);
    const elapsedMs = Date.now() - startedMs;
    if (elapsedMs + needMs > budgetS * 1000) {
      stoppedBecause = `the budget of ${budgetS} s ran out with metrics unresolved`;
      return [];
    }
    progress.line(
      `gate: round ${done + 1}: unresolved ${rows
        .filter((r) => r.verdict === "unresolved")
        .map((r) => `${r.scenario} ${r.metric} ${fmtRatio(r.ci_low)}–${fmtRatio(r.ci_high)} (${r.limit})`)
        .join(", ")}`,
    );
    return next;
  };
  const outcome = await runSession({
    scenarios,
    targets,
    repeat: maxRounds,
    workers: flags.workers,
    sink: folderSink(dir, progress),
    dir,
    runId,
    command: argv,
    suite: positionals.length > 0 ? undefined : thresholds.suite,
    progress,
    signal,
    hostLimits,
    cpus: flags.cpus,
    driverSched: flags.driverSched,
    warmup: thresholds.warmup,
    alternateOrder: true,
    nextRepeat,
  });
  progress.done();
  const seconds = (Date.now() - startedMs) / 1000;
  process.stdout.write(closingText(outcome.results, dir, outcome.complete, { report: outcome.report }));
  if (outcome.exitCode !== ExitCode.ok) return outcome.exitCode;

  const rows = judgeRounds(outcome.record, thresholds);
  const rounds = Math.max(0, ...outcome.record.results.map((r) => r.repeat + 1));
  const exitCode = gateExit(rows, strict);
  const summary: GateSummary = {
    base,
    head,
    baseAge: age(base.date),
    rounds,
    seconds,
    budgetS,
    strict,
    exitCode,
    stoppedBecause,
    acceptCommand: "npm run baseline",
  };
  writeFileSync(join(dir, "gate.csv"), gateCsv(rows));
  const markdown = gateMarkdown(rows, summary);
  writeFileSync(join(dir, "gate.md"), markdown);
  if (process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, markdown);
  writeFileSync(join(dir, "benchmark.json"), benchmarkActionJson(rows));
  // The report again, now with the gate's verdicts in it.
  if (outcome.report) writeFileSync(outcome.report, reportHtml([loadRunFolder(dir)]));
  process.stdout.write(
    `\n${gateHeader(summary).join("\n")}\n\n${gateTable(rows)}\n\n${[...gateFooter(rows, summary), gateOutcomeLine(rows, summary)].join("\n")}\n`,
  );
  process.stdout.write(`gate.md, gate.csv: ${displayPath(dir)}\n`);
  return exitCode;
}

function gateExit(rows: readonly GateRow[], strict: boolean): number {
  if (rows.some((r) => r.verdict === "regression")) return ExitCode.regression;
  if (strict && rows.some((r) => r.verdict === "unresolved")) return ExitCode.regression;
  return ExitCode.ok;
}

/** Per scenario, the wall time of each of its rounds (both sides), from the results' phases. */
function roundDurations(results: readonly ScenarioResult[]): Map<string, number[]> {
  const byRound = new Map<string, { scenario: string; ms: number }>();
  for (const r of results) {
    const key = `${r.scenario.name}\u0000${r.repeat}`;
    const round = byRound.get(key) ?? { scenario: r.scenario.name, ms: 0 };
    round.ms += r.phases.reduce((sum, p) => sum + p.duration_ms, 0);
    byRound.set(key, round);
  }
  const out = new Map<string, number[]>();
  for (const { scenario, ms } of byRound.values()) out.set(scenario, [...(out.get(scenario) ?? []), ms]);
  return out;
}

await runCommand("npm run gate", main);
