// The gate's verdicts, from paired rounds: in each round every scenario ran once on the base and
// once on the head, one right after the other, so the machine's speed of that minute divides out of
// head ÷ base. Per scenario and metric, the rounds' ratios give an estimate and a 95% interval
// (bench/statistics/paired.ts), placed against the metric's limit L:
//
//   regression    the whole interval above L          (the head is worse by more than the limit)
//   improvement   the whole interval below 1/L
//   unchanged     the interval within [1/L, L]
//   unresolved    it straddles L or 1/L: more rounds would tell; when the budget has run out, shown
//                 as such (it fails the gate only with --strict)
//
// Correctness counts are exact: the head's worst round over the base's worst by more than
// max_increase is a regression, whatever the timings. Pure functions; the CLI runs the rounds.

import { isMetricName, METRICS } from "../../core/metrics/catalog.ts";
import type { RunRecord } from "../../core/run-record.ts";
import { median } from "../../statistics/bootstrap.ts";
import { pairedRatio } from "../../statistics/paired.ts";
import type { Thresholds } from "./config.ts";

export const BASE = "base";
export const HEAD = "head";

export type Verdict = "regression" | "improvement" | "unchanged" | "unresolved" | "no data";

export interface GateRow {
  scenario: string;
  metric: string;
  unit: string;
  /** Medians over the rounds used, each side. */
  base_median: number;
  head_median: number;
  /** Head ÷ base (Hodges–Lehmann over the rounds' ratios) and its interval; "" for a count. */
  ratio: number | "";
  ci_low: number | "";
  ci_high: number | "";
  /** "×1.1" for a ratio, "+0" for a count. */
  limit: string;
  verdict: Verdict;
  /** Paired rounds the verdict rests on. */
  rounds: number;
}

interface Pair {
  base: number;
  head: number;
}

/** Per scenario and metric: the rounds in which both sides completed and measured it, in order. */
export function pairedRounds(run: Pick<RunRecord, "results">, metrics: readonly string[]) {
  const out = new Map<string, Map<string, Pair[]>>();
  for (const head of run.results) {
    if (head.target !== HEAD || !head.complete) continue;
    const base = run.results.find(
      (r) => r.target === BASE && r.scenario === head.scenario && r.repeat === head.repeat && r.complete,
    );
    if (!base) continue;
    const byMetric = out.get(head.scenario) ?? new Map<string, Pair[]>();
    out.set(head.scenario, byMetric);
    for (const metric of metrics) {
      const h = head.metrics[metric];
      const b = base.metrics[metric];
      if (h === undefined || b === undefined) continue;
      const list = byMetric.get(metric) ?? [];
      list.push({ base: b, head: h });
      byMetric.set(metric, list);
    }
  }
  return out;
}

/** Where an interval lies against the limit L (and 1/L). */
export function place(low: number, high: number, limit: number): Exclude<Verdict, "no data"> {
  if (low > limit) return "regression";
  if (high < 1 / limit) return "improvement";
  if (low >= 1 / limit && high <= limit) return "unchanged";
  return "unresolved";
}

export function judgeRounds(run: Pick<RunRecord, "results">, thresholds: Thresholds): GateRow[] {
  const metrics = Object.keys(thresholds.metrics);
  const rounds = pairedRounds(run, metrics);
  const scenarios = [...new Set(run.results.map((r) => r.scenario))];
  const rows: GateRow[] = [];
  for (const scenario of scenarios) {
    for (const [metric, t] of Object.entries(thresholds.metrics)) {
      const pairs = rounds.get(scenario)?.get(metric) ?? [];
      const unit = isMetricName(metric) ? METRICS[metric].unit : "";
      // A metric this scenario does not measure on either side (e.g. latency in a connect-only run).
      if (pairs.length === 0 && !measuredAnywhere(run, scenario, metric)) continue;
      const base = pairs.map((p) => p.base);
      const head = pairs.map((p) => p.head);
      const row: GateRow = {
        scenario,
        metric,
        unit,
        base_median: median(base),
        head_median: median(head),
        ratio: "",
        ci_low: "",
        ci_high: "",
        limit: "",
        verdict: "no data",
        rounds: pairs.length,
      };
      if (t.max_increase !== undefined) {
        row.limit = `+${t.max_increase}`;
        if (pairs.length > 0)
          row.verdict = Math.max(...head) > Math.max(...base) + t.max_increase ? "regression" : "unchanged";
      } else if (t.limit !== undefined) {
        row.limit = `×${t.limit}`;
        const r = pairedRatio(base, head, thresholds.confidence);
        if (r.rounds > 0) {
          row.ratio = r.ratio;
          row.ci_low = r.low;
          row.ci_high = r.high;
          row.rounds = r.rounds;
          row.verdict = place(r.low, r.high, t.limit);
        }
      }
      rows.push(row);
    }
  }
  return rows;
}

function measuredAnywhere(run: Pick<RunRecord, "results">, scenario: string, metric: string): boolean {
  return run.results.some((r) => r.scenario === scenario && r.metrics[metric] !== undefined);
}

/** Scenarios with a metric still unresolved: the ones another round would serve. */
export function undecidedScenarios(rows: readonly GateRow[]): Set<string> {
  return new Set(rows.filter((r) => r.verdict === "unresolved").map((r) => r.scenario));
}

/** github-action-benchmark's customSmallerIsBetter format: the head's medians and head ÷ base. */
export function benchmarkActionJson(rows: readonly GateRow[]): string {
  const entries: { name: string; unit: string; value: number; extra?: string }[] = [];
  for (const r of rows) {
    if (!isMetricName(r.metric) || METRICS[r.metric].better !== "smaller" || !Number.isFinite(r.head_median))
      continue;
    entries.push({
      name: `${r.scenario} ${r.metric}`,
      unit: r.unit,
      value: r.head_median,
      extra: `median of ${r.rounds} rounds`,
    });
    if (r.ratio !== "")
      entries.push({
        name: `${r.scenario} ${r.metric} head ÷ base`,
        unit: "ratio",
        value: r.ratio,
        extra: `95% interval ${r.ci_low}–${r.ci_high}`,
      });
  }
  return `${JSON.stringify(entries, null, 2)}\n`;
}
