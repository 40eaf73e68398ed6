// `npm run compare -- <results A> <results B>`: the comparison table on the console and compare.csv
// in B's folder. Exit 0 (it reports; the gate decides), 2 for bad arguments or folders.

import {
  compareRuns,
  conditionNotes,
  DEFAULT_COMPARE,
  differingScenarios,
  MIN_EFFECTS,
  MIN_REPEATS,
  unmatched,
} from "../analysis/compare.ts";
import { readRunRecord } from "../core/run-record.ts";
import { UsageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { compareCsv, compareTable } from "../output/compare-table.ts";
import { writeFreshFile, writeNewFile } from "../output/new-files.ts";
import { parseFlags } from "./args.ts";
import { runCommand } from "./entry.ts";

const USAGE = `usage: npm run compare -- <results A> <results B> [--min-effect 0.15] [--csv FILE] [--fail-on-worse]

Per scenario, target and metric: medians over repeats, B/A, a 95% bootstrap confidence interval
of the ratio, and a verdict (better / worse / within noise / same). The minimum effect is 15%, more
for the metrics the A/A study found noisier (bench/statistics/min-effects.json); --min-effect sets one for all. With fewer than ${MIN_REPEATS} repeats
on a side no statistical verdict is given ("too few repeats"). Correctness metrics (missing,
duplicates, errors, ...) are exact: any increase is worse. Scenarios and targets present on one
side only are listed. Writes compare.csv into B (or --csv FILE).
--fail-on-worse: exit 1 when any verdict is worse (for scripts and CI).`;

function main(argv: string[]): number {
  const parsed = parseFlags(argv, {
    "min-effect": { type: "string" },
    csv: { type: "string" },
    "fail-on-worse": { type: "boolean" },
    help: { type: "boolean" },
  });
  if (parsed.values.help) {
    process.stdout.write(`${USAGE}\n`);
    return ExitCode.ok;
  }
  const [dirA, dirB, ...extra] = parsed.positionals;
  if (dirA === undefined || dirB === undefined || extra.length > 0) {
    throw new UsageError("name exactly two results folders: npm run compare -- results/<A> results/<B>");
  }
  const rawEffect = parsed.values["min-effect"] as string | undefined;
  const minEffect = rawEffect === undefined ? DEFAULT_COMPARE.minEffect : Number(rawEffect);
  if (!(minEffect >= 0 && minEffect < 1)) {
    throw new UsageError(`--min-effect must be a fraction in [0, 1), e.g. 0.1 for 10%, got "${rawEffect}"`);
  }
  const runA = readRunRecord(dirA);
  const runB = readRunRecord(dirB);
  // --min-effect sets one for every metric; by default, the A/A study's per-metric ones apply.
  const perMetric = rawEffect === undefined ? MIN_EFFECTS : undefined;
  const rows = compareRuns(runA, runB, { ...DEFAULT_COMPARE, minEffect, perMetric });
  const differing = differingScenarios(runA, runB);
  if (rows.length === 0) {
    const why = [...differing].map(([name, how]) => `; ${name} differs (${how})`).join("");
    throw new UsageError(`${dirA} and ${dirB} share no scenario and target to compare${why}`);
  }
  const { onlyA, onlyB } = unmatched(runA, runB);
  // Never over an earlier file: --csv FILE must be new; in B, compare-2.csv follows compare.csv.
  const csvFlag = parsed.values.csv as string | undefined;
  let csvPath: string;
  if (csvFlag !== undefined) {
    writeNewFile(csvFlag, compareCsv(rows), "--csv");
    csvPath = csvFlag;
  } else csvPath = writeFreshFile(dirB, "compare.csv", compareCsv(rows));
  const worse = rows.filter((r) => r.verdict === "worse").length;
  const better = rows.filter((r) => r.verdict === "better").length;
  const few = rows.filter((r) => r.verdict === "too few repeats").length;
  const lines = [
    compareTable(rows),
    "",
    `A = ${dirA}`,
    `B = ${dirB}`,
    `${worse} worse, ${better} better, ${rows.length - worse - better - few} within noise or same (min effect ${minEffect * 100}%${perMetric && Object.keys(perMetric).length ? ", more for the metrics the A/A study raised" : ""})${few ? `, ${few} not judged: fewer than ${MIN_REPEATS} repeats on a side` : ""}`,
    ...(onlyA.length ? [`only in A (not compared): ${onlyA.join(", ")}`] : []),
    ...(onlyB.length ? [`only in B (not compared): ${onlyB.join(", ")}`] : []),
    ...[...differing].map(
      ([name, how]) => `not compared: ${name} is a different scenario in A and B (${how})`,
    ),
    ...conditionNotes(runA, runB),
    `csv: ${csvPath}`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  return parsed.values["fail-on-worse"] === true && worse > 0 ? ExitCode.regression : ExitCode.ok;
}

await runCommand("npm run compare", main);
