// `npm run compare -- <results A> <results B>`: the comparison table on the console and compare.csv
// in B's folder. Exit 0 (it reports; the gate decides), 2 for bad arguments or folders.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { compareRuns, DEFAULT_COMPARE, loadRun } from "../compare.ts";
import { UsageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { compareCsv, compareTable } from "../output/compare-table.ts";
import { parseFlags } from "./args.ts";
import { runCommand } from "./entry.ts";

const USAGE = `usage: npm run compare -- <results A> <results B> [--min-effect 0.15] [--csv FILE]

Per scenario, target and metric: medians over repeats, B/A, a 95% bootstrap confidence interval
of the ratio, and a verdict (better / worse / within noise / same). Correctness metrics (missing,
duplicates, errors, ...) are exact: any increase is worse. Writes compare.csv into B (or --csv FILE).`;

function main(argv: string[]): number {
  const parsed = parseFlags(argv, {
    "min-effect": { type: "string" },
    csv: { type: "string" },
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
  const rows = compareRuns(loadRun(dirA), loadRun(dirB), { ...DEFAULT_COMPARE, minEffect });
  if (rows.length === 0) throw new UsageError(`${dirA} and ${dirB} share no scenario and target to compare`);
  const csvPath = (parsed.values.csv as string | undefined) ?? join(dirB, "compare.csv");
  writeFileSync(csvPath, compareCsv(rows));
  const worse = rows.filter((r) => r.verdict === "worse").length;
  const better = rows.filter((r) => r.verdict === "better").length;
  process.stdout.write(
    `${compareTable(rows)}\n\nA = ${dirA}\nB = ${dirB}\n${worse} worse, ${better} better, ${rows.length - worse - better} within noise or same (min effect ${minEffect * 100}%)\ncsv: ${csvPath}\n`,
  );
  return ExitCode.ok;
}

await runCommand("npm run compare", main);
