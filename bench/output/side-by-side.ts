// Targets side by side: per scenario and metric, each target's median over repeats (peers.csv), and
// the headline table of the peer comparison. Pure functions of results.

import { stringify } from "csv-stringify/sync";
import { METRICS, type MetricName } from "../core/metrics/catalog.ts";
import { isComplete, type ScenarioResult } from "../core/result.ts";
import { scenarioModuleOf } from "../core/scenario.ts";
import { median } from "../statistics/bootstrap.ts";
import { formatTable, readable } from "./console.ts";

export interface SideBySideRow {
  scenario: string;
  metric: MetricName;
  unit: string;
  /** Target name → median over its complete repeats. */
  values: Record<string, number>;
}

export function targetsOf(results: ScenarioResult[]): string[] {
  return [...new Set(results.map((r) => r.target))];
}

export function sideBySide(results: ScenarioResult[]): SideBySideRow[] {
  const rows = new Map<string, SideBySideRow>();
  const samples = new Map<string, number[]>();
  for (const r of results) {
    if (!isComplete(r)) continue;
    for (const m of r.metrics) {
      if (METRICS[m.name].better === "info" && m.name !== "waiters") continue;
      const id = `${r.scenario.name}\u0000${m.name}`;
      if (!rows.has(id))
        rows.set(id, { scenario: r.scenario.name, metric: m.name, unit: m.unit, values: {} });
      const key = `${id}\u0000${r.target}`;
      samples.set(key, [...(samples.get(key) ?? []), m.value]);
    }
  }
  for (const [key, values] of samples) {
    const [scenario, metric, target] = key.split("\u0000") as [string, string, string];
    const row = rows.get(`${scenario}\u0000${metric}`) as SideBySideRow;
    row.values[target] = median(values);
  }
  return [...rows.values()];
}

export function sideBySideCsv(results: ScenarioResult[]): string {
  const targets = targetsOf(results);
  const rows = sideBySide(results).map((r) => ({
    scenario: r.scenario,
    metric: r.metric,
    unit: r.unit,
    ...r.values,
  }));
  return stringify(rows, { header: true, columns: ["scenario", "metric", "unit", ...targets] });
}

/** Medians over repeats of the headline figures, one column per target; rows with no data left out. */
export function headlineTable(results: ScenarioResult[]): string | undefined {
  const targets = targetsOf(results);
  if (targets.length < 2) return undefined;
  const rows = sideBySide(results);
  const scenarios = [...new Map(results.map((r) => [r.scenario.name, r.scenario.type])).entries()];
  const body: string[][] = [];
  for (const [scenario, type] of scenarios) {
    for (const [metric, label, digits] of scenarioModuleOf(type).sideBySide ?? []) {
      const row = rows.find((r) => r.scenario === scenario && r.metric === metric);
      if (!row) continue;
      body.push([
        scenario,
        label,
        ...targets.map((t) =>
          row.values[t] === undefined ? "-" : readable(row.values[t] as number, digits),
        ),
      ]);
    }
  }
  if (body.length === 0) return undefined;
  const repeats = Math.max(...results.map((r) => r.repeat)) + 1;
  const head = repeats === 1 ? "one repeat" : `median of ${repeats} repeats`;
  return formatTable([["scenario", head, ...targets], ...body]);
}
