// The run folder: results/<run-id>/ with run.json, summary.csv, latency-<scenario>.csv,
// timeseries-<scenario>.csv, deliveries-<scenario>.csv and <scenario>.hlog; at the end summary.md, junit.xml and report.html. A folder is never overwritten: an existing,
// non-empty folder is refused, and a new one is claimed for one run (CLAIM_FILE, run-id.mjs).
// Files are rewritten after every scenario, so whatever was measured before a crash or Ctrl-C is on
// disk.

import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadRunFolder } from "../analysis/run-folders.ts";
import type { Progress } from "../core/progress.ts";
import type { ScenarioResult } from "../core/result.ts";
import type { RunRecord } from "../core/run-record.ts";
import type { ResultsSink } from "../core/session.ts";
import { UsageError } from "../errors.ts";
import { deliveriesCsv, latencyCsv, summaryCsv, tableCsv, timeseriesCsv } from "./csv.ts";
import { hlogText } from "./hlog.ts";
import { isDirectory, writeNewFile } from "./new-files.ts";
import { reportHtml } from "./report.ts";
import { CLAIM_FILE, newRunId } from "./run-id.mjs";
import { sideBySideCsv, targetsOf } from "./side-by-side.ts";
import { junitXml, summaryMarkdown } from "./verdict.ts";

/** Run folders go under results/ in the folder the command runs in (the repository, with npm run). */
export const resultsRoot = (): string => join(process.cwd(), "results");

/** A new run id and its folder: --out DIR, or results/<run-id>. */
export function openRunFolder(out: string | undefined): { runId: string; dir: string } {
  const runId = newRunId();
  return { runId, dir: createRunFolder(out ?? join(resultsRoot(), runId), runId) };
}

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
    if (of.some((r) => r.deliveries)) writeFileSync(join(dir, `deliveries-${name}.csv`), deliveriesCsv(of));
    const tables = of.filter((r) => r.table);
    if (tables.length) writeFileSync(join(dir, `${name}.csv`), tableCsv(tables));
  }
}

/**
 * The session's results sink for a run folder: every file rewritten after each scenario run; at the
 * end, report.html too (a failure to draw it never costs a result: a warning, the files are there).
 */
export function folderSink(dir: string, progress: Pick<Progress, "line">): ResultsSink {
  return {
    write: (record, results, startedAtMs) => writeRunFolder(dir, record, results, startedAtMs),
    finish(record, results, startedAtMs) {
      writeRunFolder(dir, record, results, startedAtMs);
      // The verdict, for CI pages (Markdown) and test reports (JUnit): once it is known, at the end.
      writeFileSync(join(dir, "summary.md"), summaryMarkdown(record));
      writeFileSync(join(dir, "junit.xml"), junitXml(record));
      try {
        const file = join(dir, "report.html");
        writeFileSync(file, reportHtml([loadRunFolder(dir)]));
        return file;
      } catch (error) {
        progress.line(`warning: report.html not written: ${(error as Error).message}`);
        return undefined;
      }
    },
  };
}
