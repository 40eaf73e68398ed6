// `npm run report -- RUN [RUN ...] [--out FILE]`: report.html for any run folders after the fact;
// several are overlaid (before/after, or peers). Default output: RUN/report.html for one run (or
// report-2.html beside the run's own); for several, results/report-<A>-vs-<B>.html, in no run's folder.

import { mkdirSync } from "node:fs";
import { loadRunFolders } from "../analysis/run-folders.ts";
import { UsageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { displayPath } from "../output/closing.ts";
import { writeFreshFile, writeNewFile } from "../output/new-files.ts";
import { reportHtml } from "../output/report.ts";
import { resultsRoot } from "../output/results-folder.ts";
import { parseFlags } from "./args.ts";
import { runCommand } from "./entry.ts";

const USAGE = `usage: npm run report -- RUN [RUN ...] [--out FILE]

Writes one self-contained HTML page (charts and data inlined, opens offline) for the named results
folders: latency distributions from their HDR histograms, timeseries with phases, memory sweeps,
side-by-side figures, gate/compare verdicts, warnings and the environment. Several folders are
overlaid. Every bench and gate run already writes RUN/report.html.`;

function main(argv: string[]): number {
  const { values, positionals } = parseFlags(argv, { out: { type: "string" }, help: { type: "boolean" } });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return ExitCode.ok;
  }
  if (positionals.length === 0)
    throw new UsageError("name at least one results folder: npm run report -- results/<run>");
  const runs = loadRunFolders(positionals);
  const first = positionals[0] as string;
  // Never over an earlier file: --out FILE must be new; in the run folder, report-2.html follows
  // the report.html the run wrote.
  const html = reportHtml(runs);
  const outFlag = values.out as string | undefined;
  let out: string;
  if (outFlag !== undefined) {
    writeNewFile(outFlag, html, "--out");
    out = outFlag;
  } else if (runs.length === 1) out = writeFreshFile(first, "report.html", html);
  else {
    const name = `report-${runs.map((r) => r.label).join("-vs-")}.html`.slice(0, 200);
    mkdirSync(resultsRoot(), { recursive: true });
    out = writeFreshFile(resultsRoot(), name, html);
  }
  process.stdout.write(`report: ${displayPath(out)}\n`);
  return ExitCode.ok;
}

await runCommand("npm run report", main);
