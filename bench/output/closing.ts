// The lines a run ends with on stdout: the verdict (thresholds), the summary table, the side-by-side table, which results were
// driver-bound, every warning, and where the results are. Printing only.

import { relative } from "node:path";
import { failureOf, type ScenarioResult } from "../core/result.ts";
import type { ThresholdVerdict } from "../core/verdict/thresholds.ts";
import { summaryTable } from "./console.ts";
import { headlineTable } from "./side-by-side.ts";
import { verdictLines } from "./verdict.ts";

export function displayPath(dir: string): string {
  const rel = relative(process.cwd(), dir);
  return rel === "" || rel.startsWith("..") ? dir : rel;
}

export function closingText(
  results: ScenarioResult[],
  dir: string,
  complete: boolean,
  options: { report?: string | undefined; wide?: boolean; verdicts?: readonly ThresholdVerdict[] } = {},
): string {
  const { report, wide = false, verdicts = [] } = options;
  // The verdict first (and again last, where a long table would have scrolled it away).
  const verdict = verdictLines(verdicts);
  const lines: string[] = verdict.length > 0 ? [...verdict, ""] : [];
  if (results.length > 0) lines.push(summaryTable(results, wide));
  const headline = headlineTable(results);
  if (headline) lines.push("", "side by side (all figures per target in peers.csv):", headline, "");
  const flagged = results
    .filter((r) => r.flags.driverBound)
    .map((r) => `${r.scenario.name}@${r.target}#${r.repeat} (${r.flags.driverBoundPhases.join(", ")})`);
  if (flagged.length) {
    lines.push(
      `driver-bound: a driver worker was busy over half of these phases, so their figures may be the driver's, not the server's: ${flagged.join("; ")}`,
    );
  }
  for (const r of results) for (const w of r.warnings) lines.push(`warning: ${w}`);
  for (const r of results) {
    const failure = failureOf(r);
    if (failure) lines.push(`FAILED ${r.scenario.name}@${r.target}#${r.repeat}: ${failure.message}`);
  }
  lines.push(`results: ${displayPath(dir)}${complete ? "" : " (incomplete)"}`);
  if (report) lines.push(`report: ${displayPath(report)}`);
  if (verdict.length > 0) lines.push(verdict[0] as string);
  return `${lines.join("\n")}\n`;
}
