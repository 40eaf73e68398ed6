// Printing of comparisons: a console table and CSV rows. Pure functions of ComparisonRow data.

import { stringify } from "csv-stringify/sync";
import type { ComparisonRow } from "../analysis/compare.ts";
import { formatTable } from "./console.ts";

export const COMPARE_COLUMNS = [
  "scenario",
  "target",
  "metric",
  "unit",
  "n_a",
  "n_b",
  "median_a",
  "median_b",
  "ratio",
  "ci_low",
  "ci_high",
  "verdict",
] as const;

const num = (v: number | "", digits = 3) =>
  v === "" ? "-" : Number.isFinite(v) ? v.toFixed(digits) : String(v);

export function compareTable(rows: ComparisonRow[], { onlyNotable = false } = {}): string {
  const shown = onlyNotable ? rows.filter((r) => r.verdict === "worse" || r.verdict === "better") : rows;
  const head = ["scenario", "target", "metric", "A median", "B median", "B/A", "95% CI", "verdict"];
  const body = shown.map((r) => [
    r.scenario,
    r.target,
    r.metric,
    num(r.median_a, 2),
    num(r.median_b, 2),
    num(r.ratio),
    r.ci_low === "" ? "-" : `${num(r.ci_low)}–${num(r.ci_high)}`,
    r.verdict === "worse" ? "WORSE" : r.verdict,
  ]);
  return formatTable([head, ...body]);
}

export function compareCsv(rows: ComparisonRow[]): string {
  return stringify(rows, { header: true, columns: [...COMPARE_COLUMNS] });
}
