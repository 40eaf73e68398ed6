// The A/A study: pairs of runs of unchanged code, compared as two versions would be. Any verdict
// between them is a false one, so the study sets, per metric, the smallest effect that counts: above
// the largest shift unchanged code showed with a confident interval, with a margin. Pure: it reads
// run records and returns the figures; bench/cli/aa-study.ts runs the runs and writes them down.

import { metricSpec } from "../../core/metrics/catalog.ts";
import type { RunRecord } from "../../core/run-record.ts";
import { compareRuns, DEFAULT_COMPARE } from "../compare.ts";

/** The margin over the largest unchanged-code shift, and the step thresholds are rounded up to. */
const MARGIN = 1.25;
const STEP = 0.05;

export interface AaMetric {
  metric: string;
  /** Pairs where both sides had the metric with enough repeats to judge. */
  pairs: number;
  /** The largest |B/A − 1| among pairs whose confidence interval excluded 1 (0 if none did). */
  largestConfidentShift: number;
  /** Pairs that would draw a verdict at the uniform default minimum effect. */
  falseAtDefault: number;
  /** The minimum effect the study sets: the default, or more where unchanged code moved more. */
  minEffect: number;
  /** Pairs that would draw a verdict at minEffect (0 on the study's own pairs, by construction). */
  falseAtMinEffect: number;
}

export function aaStudy(
  pairs: readonly (readonly [RunRecord, RunRecord])[],
  defaultMinEffect = DEFAULT_COMPARE.minEffect,
): AaMetric[] {
  const byMetric = new Map<string, { ratio: number; sure: boolean }[]>();
  for (const [a, b] of pairs) {
    for (const row of compareRuns(a, b, { ...DEFAULT_COMPARE, minEffect: 0 })) {
      const spec = metricSpec(row.metric);
      if (!spec || spec.kind === "correctness" || row.ratio === "" || row.ci_low === "" || row.ci_high === "")
        continue;
      const list = byMetric.get(row.metric) ?? [];
      list.push({ ratio: row.ratio, sure: row.ci_low > 1 || row.ci_high < 1 });
      byMetric.set(row.metric, list);
    }
  }
  const out: AaMetric[] = [];
  for (const [metric, list] of [...byMetric].sort(([x], [y]) => x.localeCompare(y))) {
    const shifts = list.map((p) => (p.sure ? Math.abs(p.ratio - 1) : 0));
    const largest = Math.max(0, ...shifts);
    const minEffect = Math.max(defaultMinEffect, Math.ceil((largest * MARGIN) / STEP) * STEP);
    out.push({
      metric,
      pairs: list.length,
      largestConfidentShift: largest,
      falseAtDefault: shifts.filter((s) => s > defaultMinEffect).length,
      minEffect: Number(minEffect.toFixed(2)),
      falseAtMinEffect: shifts.filter((s) => s > minEffect).length,
    });
  }
  return out;
}
