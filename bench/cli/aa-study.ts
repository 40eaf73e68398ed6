// npm run aa-study -- [--pairs 10] [--repeat 5] [--scenario fanout-1k] [--out DIR] [--analyze DIR]
// Runs 2 × pairs runs of unchanged code (the bench, one after another), pairs them (1 with 2, 3 with
// 4, ...), and writes per metric: the largest shift unchanged code showed with a confident interval,
// the false verdicts at the uniform 15%, and the minimum effect that silences them, into
// DIR/aa-study.json and bench/statistics/min-effects.json (what compare uses). --analyze DIR redoes the
// analysis of runs already in DIR (DIR/run-1, DIR/run-2, ...).

import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { aaStudy } from "../analysis/studies/aa-study.ts";
import { readRunRecord } from "../core/run-record.ts";
import { UsageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { createRunFolder } from "../output/results-folder.ts";
import { parseFlags, positiveInt } from "./args.ts";
import { benchInto } from "./bench-child.ts";
import { runCommand } from "./entry.ts";

const MIN_EFFECTS_FILE = new URL("../statistics/min-effects.json", import.meta.url).pathname;

const USAGE = `usage: npm run aa-study -- [--pairs 10] [--repeat 5] [--scenario fanout-1k] [--out DIR] [--analyze DIR]

The A/A study: pairs of runs of unchanged code compared as two versions would be; every verdict
between them is false. Sets compare's minimum effect per metric (bench/statistics/min-effects.json) so
that unchanged code draws none, and writes DIR/aa-study.json.`;

function main(argv: string[]): number {
  const { values: v } = parseFlags(argv, {
    pairs: { type: "string" },
    repeat: { type: "string" },
    scenario: { type: "string" },
    out: { type: "string" },
    analyze: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (v.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return ExitCode.ok;
  }
  const pairs = positiveInt("pairs", v.pairs as string | undefined, 100) ?? 10;
  const repeat = positiveInt("repeat", v.repeat as string | undefined, 50) ?? 5;
  const scenario = (v.scenario as string | undefined) ?? "fanout-1k";
  const analyze = v.analyze as string | undefined;
  const dir = analyze ?? (v.out as string | undefined) ?? join("results", `aa-study-${Date.now()}`);
  if (analyze === undefined) {
    createRunFolder(dir); // a new folder, claimed: an earlier study is never overwritten
    for (let i = 1; i <= 2 * pairs; i++) {
      process.stderr.write(`aa-study: run ${i} of ${2 * pairs}\n`);
      benchInto(join(dir, `run-${i}`), [scenario, "--repeat", String(repeat)], `aa-study: run ${i}`);
    }
  }
  const runs = readdirSync(dir)
    .filter((n) => /^run-\d+$/.test(n) && existsSync(join(dir, n, "run.json")))
    .sort((x, y) => Number(x.slice(4)) - Number(y.slice(4)))
    .map((n) => readRunRecord(join(dir, n)));
  if (runs.length < 2) throw new UsageError(`${dir}: fewer than two runs (run-1, run-2, ...) to pair`);
  const paired = Array.from(
    { length: Math.floor(runs.length / 2) },
    (_, i) => [runs[2 * i], runs[2 * i + 1]] as const,
  );
  const metrics = aaStudy(paired as never);
  const falseAtDefault = metrics.reduce((n, m) => n + m.falseAtDefault, 0);
  const falseAtSet = metrics.reduce((n, m) => n + m.falseAtMinEffect, 0);
  const doc = {
    pairs: paired.length,
    repeats: repeat,
    scenario,
    false_verdicts_at_15_percent: falseAtDefault,
    false_verdicts_at_set_min_effects: falseAtSet,
    metrics,
  };
  writeFileSync(join(dir, "aa-study.json"), `${JSON.stringify(doc, null, 2)}\n`);
  const raised = Object.fromEntries(
    metrics.filter((m) => m.minEffect > 0.15).map((m) => [m.metric, m.minEffect]),
  );
  writeFileSync(
    MIN_EFFECTS_FILE,
    `${JSON.stringify({ study: { pairs: paired.length, repeats: repeat, scenario, false_verdicts_at_15_percent: falseAtDefault }, min_effect: raised }, null, 2)}\n`,
  );
  const width = Math.max(...metrics.map((m) => m.metric.length));
  const lines = [
    `${"metric".padEnd(width)}  pairs  largest confident shift  false at 15%  min effect`,
    ...metrics.map(
      (m) =>
        `${m.metric.padEnd(width)}  ${String(m.pairs).padStart(5)}  ${`${(m.largestConfidentShift * 100).toFixed(1)}%`.padStart(23)}  ${String(m.falseAtDefault).padStart(12)}  ${`${(m.minEffect * 100).toFixed(0)}%`.padStart(10)}`,
    ),
    "",
    `${paired.length} pairs of ${repeat} repeats (${scenario}): ${falseAtDefault} false verdicts at a uniform 15%, ${falseAtSet} at the minimum effects set`,
    `written: ${join(dir, "aa-study.json")}, ${MIN_EFFECTS_FILE}`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  return ExitCode.ok;
}

await runCommand("npm run aa-study", main);
