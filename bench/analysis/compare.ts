// Compare two runs: per scenario, target and metric, the medians over repeats, the ratio B/A with a
// bootstrap confidence interval, and a verdict. A verdict needs both certainty (the interval clears 1)
// and size (the ratio moves by more than the minimum effect), so a statistically sure 1% is not news.
// Correctness metrics are compared exactly: any increase is worse. Pure functions of run records.

import { existsSync, readFileSync } from "node:fs";
import { metricSpec } from "../core/metrics/catalog.ts";
import { driverSchedOf, type RunRecord } from "../core/run-record.ts";
import { bootstrapRatio, median } from "../statistics/bootstrap.ts";

export type Verdict = "better" | "worse" | "within noise" | "same" | "too few repeats";

/** Below this many repeats on a side, a statistical verdict is not given (the interval is the data). */
export const MIN_REPEATS = 3;

export interface CompareOptions {
  /** Smallest relative change that counts, e.g. 0.1 for 10%. */
  minEffect: number;
  /** Per metric, where the A/A study set one above minEffect (see MIN_EFFECTS); absent: minEffect for all. */
  perMetric?: Readonly<Record<string, number>>;
  confidence: number;
}

/**
 * The per-metric minimum effects set by the A/A study (npm run aa-study; docs/compare.md):
 * where unchanged code moved a metric by more than 15% with a confident interval, its minimum
 * effect is raised above that, so unchanged code draws no verdict.
 */
export const MIN_EFFECTS: Readonly<Record<string, number>> = loadMinEffects();

function loadMinEffects(): Record<string, number> {
  const file = new URL("../statistics/min-effects.json", import.meta.url);
  if (!existsSync(file)) return {};
  const doc = JSON.parse(readFileSync(file, "utf8")) as { min_effect?: Record<string, number> };
  return doc.min_effect ?? {};
}

/**
 * 15%: with 5 repeats and ±15% run-to-run noise (this shared machine), two samples of one distribution
 * are called different in about 0.3% of comparisons, and a real 30% shift is caught in about 95%
 * (measured by bench/analysis/compare.test.ts on synthetic samples). At 10% false alarms rose to 4%.
 */
export const DEFAULT_COMPARE: CompareOptions = { minEffect: 0.15, confidence: 0.95 };

export interface ComparisonRow {
  scenario: string;
  target: string;
  metric: string;
  unit: string;
  n_a: number;
  n_b: number;
  median_a: number;
  median_b: number;
  /** median_b / median_a; "" where A's median is 0. */
  ratio: number | "";
  ci_low: number | "";
  ci_high: number | "";
  verdict: Verdict;
}

/** scenario → target → metric → values over the complete repeats. */
export type Samples = Map<string, Map<string, Map<string, number[]>>>;

export function samplesOf(run: RunRecord): Samples {
  const out: Samples = new Map();
  for (const r of run.results) {
    if (!r.complete) continue;
    const byTarget = out.get(r.scenario) ?? new Map<string, Map<string, number[]>>();
    out.set(r.scenario, byTarget);
    const byMetric = byTarget.get(r.target) ?? new Map<string, number[]>();
    byTarget.set(r.target, byMetric);
    for (const [name, value] of Object.entries(r.metrics)) {
      const list = byMetric.get(name) ?? [];
      list.push(value);
      byMetric.set(name, list);
    }
  }
  return out;
}

/** Judge one metric from its samples in A and B. */
export function judge(
  metric: string,
  a: readonly number[],
  b: readonly number[],
  options: CompareOptions,
): Pick<ComparisonRow, "median_a" | "median_b" | "ratio" | "ci_low" | "ci_high" | "verdict"> {
  const spec = metricSpec(metric);
  const medianA = median(a);
  const medianB = median(b);
  const base = { median_a: medianA, median_b: medianB };
  if (spec?.kind === "correctness") {
    // Exact: any repeat of B above A's worst is a failure; no statistics excuse a lost message.
    const worstA = Math.max(...a);
    const worstB = Math.max(...b);
    const verdict: Verdict = worstB > worstA ? "worse" : worstB < worstA ? "better" : "same";
    return { ...base, ratio: medianA === 0 ? "" : medianB / medianA, ci_low: "", ci_high: "", verdict };
  }
  // Too few repeats for any statistical verdict, whatever the medians (a zero one included).
  if (a.length < MIN_REPEATS || b.length < MIN_REPEATS) {
    return {
      ...base,
      ratio: medianA === 0 ? "" : medianB / medianA,
      ci_low: "",
      ci_high: "",
      verdict: "too few repeats",
    };
  }
  if (medianA === 0 || medianB === 0) {
    if (medianA === medianB)
      return { ...base, ratio: medianA === 0 ? "" : 1, ci_low: "", ci_high: "", verdict: "same" };
    // No ratio from zero: decide by whether the samples overlap at all.
    const up = Math.min(...b) > Math.max(...a);
    const down = Math.max(...b) < Math.min(...a);
    const verdict = up ? orient(spec?.better, "up") : down ? orient(spec?.better, "down") : "within noise";
    return { ...base, ratio: medianA === 0 ? "" : medianB / medianA, ci_low: "", ci_high: "", verdict };
  }
  const est = bootstrapRatio(a, b, { confidence: options.confidence });
  let verdict: Verdict = "within noise";
  const minEffect = Math.max(options.minEffect, options.perMetric?.[metric] ?? 0);
  if (est.low > 1 && est.ratio > 1 + minEffect) verdict = orient(spec?.better, "up");
  else if (est.high < 1 && est.ratio < 1 - minEffect) verdict = orient(spec?.better, "down");
  return { ...base, ratio: est.ratio, ci_low: est.low, ci_high: est.high, verdict };
}

function orient(better: string | undefined, move: "up" | "down"): Verdict {
  if (better === "smaller") return move === "up" ? "worse" : "better";
  if (better === "larger") return move === "up" ? "better" : "worse";
  return "within noise";
}

/** Scenario × target pairs that only one of the runs has (compared with nothing, so listed). */
export function unmatched(a: RunRecord, b: RunRecord): { onlyA: string[]; onlyB: string[] } {
  const pairs = (run: RunRecord) => new Set(run.results.map((r) => `${r.scenario} @${r.target}`));
  const pa = pairs(a);
  const pb = pairs(b);
  return { onlyA: [...pa].filter((p) => !pb.has(p)), onlyB: [...pb].filter((p) => !pa.has(p)) };
}

/**
 * Scenarios of one name that the two runs defined differently (1,000 waiters in A, 2,000 in B): they
 * measured different things, so none of their figures is compared. Each with the fields that differ.
 */
export function differingScenarios(a: RunRecord, b: RunRecord): Map<string, string> {
  const defs = (run: RunRecord) => new Map((run.scenarios ?? []).map((s) => [s.name, s]));
  const da = defs(a);
  const out = new Map<string, string>();
  for (const [name, sb] of defs(b)) {
    const sa = da.get(name);
    if (sa === undefined) continue;
    const fields = [...new Set([...Object.keys(sa), ...Object.keys(sb)])].filter(
      (k) =>
        k !== "description" &&
        JSON.stringify((sa as Record<string, unknown>)[k]) !==
          JSON.stringify((sb as Record<string, unknown>)[k]),
    );
    if (fields.length > 0)
      out.set(
        name,
        fields
          .map(
            (k) =>
              `${k} ${JSON.stringify((sa as Record<string, unknown>)[k])} in A, ${JSON.stringify((sb as Record<string, unknown>)[k])} in B`,
          )
          .join("; "),
      );
  }
  return out;
}

/**
 * How the two runs were made differently, where that alone moves figures: the driver's scheduling
 * policy (the reference cluster's 100k fan-out took 1.5× as long with the driver as normal as with
 * it as batch here, medians of 3; docs/running.md, "How a run works"). Empty when alike.
 */
export function conditionNotes(a: RunRecord, b: RunRecord): string[] {
  // Runs recorded before the policy was ran as normal; null: the workers ran on agents.
  const sched = (run: RunRecord) => driverSchedOf(run) ?? "on agents (not set here)";
  if (sched(a) === sched(b)) return [];
  return [
    `note: A's driver ran as ${sched(a)}, B's as ${sched(b)} (--driver-sched): figures may differ for that alone`,
  ];
}

/** Every metric that both runs measured for the same scenario and target (info metrics left out). */
export function compareRuns(
  a: RunRecord,
  b: RunRecord,
  options: CompareOptions = DEFAULT_COMPARE,
): ComparisonRow[] {
  const sa = samplesOf(a);
  const sb = samplesOf(b);
  const differing = differingScenarios(a, b);
  const rows: ComparisonRow[] = [];
  for (const [scenario, targetsB] of sb) {
    const targetsA = sa.get(scenario);
    if (!targetsA || differing.has(scenario)) continue;
    for (const [target, metricsB] of targetsB) {
      const metricsA = targetsA.get(target);
      if (!metricsA) continue;
      for (const [metric, valuesB] of metricsB) {
        const valuesA = metricsA.get(metric);
        const spec = metricSpec(metric);
        if (!valuesA || !spec || spec.better === "info") continue;
        rows.push({
          scenario,
          target,
          metric,
          unit: spec.unit,
          n_a: valuesA.length,
          n_b: valuesB.length,
          ...judge(metric, valuesA, valuesB, options),
        });
      }
    }
  }
  return rows;
}
