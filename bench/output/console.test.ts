// The summary table keeps to 120 columns for every scenario type, with every column filled, long
// target names and notes: notes move under their row, then columns are left out (named in the
// legend); --wide keeps everything.

import assert from "node:assert/strict";
import { test } from "node:test";
import { METRICS } from "../core/metrics/catalog.ts";
import type { ScenarioResult } from "../core/result.ts";
import { SCENARIO_TYPE_MODULES } from "../core/scenarios/registry.ts";
import { MAX_COLUMNS, summaryTable } from "./console.ts";

function result(type: string, target: string, repeat: number): ScenarioResult {
  // Every metric a large figure: the widest cells a real run can print.
  const metrics = Object.entries(METRICS).map(([name, m]) => ({ name, value: 1_234_567.891, unit: m.unit }));
  return {
    state: "complete",
    scenario: { name: `${type}-scenario-10k`, type, description: "t" },
    target,
    repeat,
    startedAtMs: 0,
    warnings: [],
    phases: [],
    metrics,
    histograms: {},
    timeseries: [],
    flags: { driverBound: true, driverBoundPhases: ["connect", "fanout"], barrierApproximate: true },
    errorReasons: {},
  } as unknown as ScenarioResult;
}

test("every type's table fits 120 columns; what does not fit is named; --wide shows it all", () => {
  for (const { type } of SCENARIO_TYPE_MODULES) {
    const results = ["reference-cluster", "nchan-workers", "node-http"].flatMap((t) => [
      result(type, t, 0),
      result(type, t, 1),
    ]);
    const text = summaryTable(results);
    const [table, legend] = text.split("\n\nlegend") as [string, string];
    for (const line of table.split("\n"))
      assert.ok(line.length <= MAX_COLUMNS, `${type}: ${line.length} columns: ${line}`);
    assert.match(table, /\n {4}notes: MISSING 1,234,568\/1,234,568; LOST/, `${type}: notes under their row`);
    const wide = summaryTable(results, true);
    if (wide.split("\n").some((l) => l.length > MAX_COLUMNS)) {
      assert.match(legend, /not shown to fit 120 columns: |notes/, `${type}: what was left out is said`);
    }
  }
});
