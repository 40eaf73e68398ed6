// The gate's verdicts as a console table and as gate.csv (one row per scenario and metric). Printing only.

import { stringify } from "csv-stringify/sync";
import type { GateRow } from "../gate.ts";
import { formatTable } from "./console.ts";

const GATE_COLUMNS = [
  "scenario",
  "metric",
  "normalized",
  "baseline_median",
  "current_median",
  "ratio",
  "ci_low",
  "ci_high",
  "limit",
  "verdict",
  "paced",
] as const;

export const fmtRatio = (v: number | "") => (v === "" || !Number.isFinite(v) ? "-" : v.toFixed(3));

export function gateTable(rows: GateRow[]): string {
  return formatTable([
    ["scenario", "metric", "judged as", "baseline", "current", "ratio", "95% CI", "limit", "verdict"],
    ...rows.map((r) => [
      r.scenario,
      r.metric,
      r.normalized ? "÷ calibration" : "as is",
      fmtRatio(r.baseline_median),
      fmtRatio(r.current_median),
      fmtRatio(r.ratio),
      r.ci_low === "" ? "-" : `${fmtRatio(r.ci_low)}–${fmtRatio(r.ci_high)}`,
      r.limit,
      r.verdict,
    ]),
  ]);
}

export function gateCsv(rows: GateRow[]): string {
  return stringify(rows, { header: true, columns: [...GATE_COLUMNS] });
}
