// Thresholds: pass/fail conditions on a run's figures, and the verdict they give.
//
// A threshold is a metric of the catalogue, an operator and a limit ("latency_p99_ms<500"), or "off"
// to lift one. They come from four places, each overriding the one before for the same metric:
//   1. the defaults: every correctness metric (lost, duplicates, out of order, errors, set errors,
//      waiters left parked after the drain, a stream that fell behind, ...) must be 0, but those a
//      scenario type expects above 0 (its module's expectedNonZero);
//   2. the scenario file: "thresholds": {"latency_p99_ms": "<500"} (that scenario, every target);
//   3. the target file: "thresholds": {...} (that target, every scenario);
//   4. the command line: --threshold '[SCENARIO][@TARGET]:METRIC<LIMIT' (repeatable).
// A threshold is judged per scenario and target on the median over the repeats that measured it,
// shown with their range; a default (correctness) one on the worst repeat, since one repeat that
// lost or duplicated messages is a failure however many others did not. A threshold someone wrote on a figure no repeat measured fails (nothing to
// judge is not a pass); a default one is then not judged (a target without /stats has no
// parked_after_drain).
//
// This module knows scenarios and targets only by name and type, so the scenario loader can check a
// file's thresholds without an import cycle.

import { UsageError } from "../../errors.ts";
import { closest } from "../did-you-mean.ts";
import { isMetricName, METRICS, type MetricName } from "../metrics/catalog.ts";
import { SCENARIO_TYPE_MODULES } from "../scenarios/registry.ts";

export type Operator = "<" | "<=" | ">" | ">=" | "==";
export type ThresholdSource = "default" | "scenario" | "target" | "flag";

export interface Threshold {
  metric: MetricName;
  /** undefined: lifted ("off"). */
  condition: { op: Operator; limit: number } | undefined;
  source: ThresholdSource;
  /** Only this scenario / target (flags may name them); undefined: every one. */
  scenario?: string;
  target?: string;
}

/** How one threshold fared for one scenario and target. */
export interface ThresholdVerdict {
  scenario: string;
  target: string;
  metric: MetricName;
  /** "<500", "==0". */
  condition: string;
  source: ThresholdSource;
  /** Median over the repeats that measured it; absent: none did. */
  value?: number;
  min?: number;
  max?: number;
  /** Repeats that measured it. */
  repeats: number;
  pass: boolean;
}

/** What thresholds need of a scenario. */
export interface ThresholdScenario {
  name: string;
  type: string;
  thresholds?: Record<string, string> | undefined;
}

const CONDITION = /^\s*(<=|>=|==|<|>)\s*(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*$/i;

export const formatCondition = (c: NonNullable<Threshold["condition"]>): string => `${c.op}${c.limit}`;

/** One "metric": "condition" pair; throws a UsageError that names where and what to write instead. */
export function parseThreshold(
  metric: string,
  condition: string,
  source: ThresholdSource,
  where: string,
): Threshold {
  if (!isMetricName(metric)) {
    const near = closest(metric, Object.keys(METRICS));
    throw new UsageError(
      `${where}: threshold on "${metric}": no such metric${near ? ` (did you mean ${near}?)` : ""}; every metric: npm run bench -- --list-metrics`,
    );
  }
  if (condition.trim() === "off") return { metric, condition: undefined, source };
  const m = CONDITION.exec(condition);
  if (!m) {
    throw new UsageError(
      `${where}: threshold "${metric}": "${condition}" is not a condition; write <N, <=N, >N, >=N, ==N, or off (e.g. "${metric}": "<500")`,
    );
  }
  return { metric, condition: { op: m[1] as Operator, limit: Number(m[2]) }, source };
}

/** The thresholds of a scenario file or target file ("thresholds": {...}); every problem at once. */
export function parseThresholdRecord(
  record: Record<string, string> | undefined,
  source: ThresholdSource,
  where: string,
): { thresholds: Threshold[]; problems: string[] } {
  const thresholds: Threshold[] = [];
  const problems: string[] = [];
  for (const [metric, condition] of Object.entries(record ?? {})) {
    try {
      thresholds.push(parseThreshold(metric, condition, source, where));
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  return { thresholds, problems };
}

/**
 * --threshold '[SCENARIO][@TARGET]:METRIC<LIMIT' or 'METRIC<LIMIT' (every scenario and target);
 * 'METRIC:off' or '[SCENARIO]:METRIC=off' lifts one.
 */
export function parseThresholdFlag(text: string): Threshold {
  const where = `--threshold '${text}'`;
  const colon = text.lastIndexOf(":");
  let scope = "";
  let rest = text;
  // "METRIC:off" has its colon before "off"; a scope's colon comes before the metric.
  if (colon >= 0 && text.slice(colon + 1).trim() !== "off") {
    scope = text.slice(0, colon);
    rest = text.slice(colon + 1);
  } else if (colon >= 0) {
    const before = text.slice(0, colon);
    const scoped = before.lastIndexOf(":");
    if (scoped >= 0) {
      scope = before.slice(0, scoped);
      rest = `${before.slice(scoped + 1)}:off`;
    }
  }
  const [scenario, target] = scope.includes("@") ? scope.split("@", 2) : [scope, ""];
  const off = /^([a-z0-9_]+)\s*[:=]\s*off$/i.exec(rest.trim());
  const m = off ? undefined : /^([a-z0-9_]+)\s*(.*)$/i.exec(rest.trim());
  const metric = off?.[1] ?? m?.[1];
  if (metric === undefined) {
    throw new UsageError(
      `${where}: write [SCENARIO][@TARGET]:METRIC<LIMIT, e.g. --threshold 'fanout-10k:latency_p99_ms<500' or --threshold 'duplicates:off'`,
    );
  }
  const t = parseThreshold(metric, off ? "off" : (m?.[2] ?? ""), "flag", where);
  return {
    ...t,
    ...(scenario ? { scenario } : {}),
    ...(target ? { target } : {}),
  };
}

/** Every correctness metric must be 0, but those the scenario's type expects above 0. */
export function defaultThresholds(type: string): Threshold[] {
  const module = SCENARIO_TYPE_MODULES.find((m) => m.type === type);
  const expected = new Set(module?.expectedNonZero ?? []);
  return (Object.keys(METRICS) as MetricName[])
    .filter((m) => METRICS[m].kind === "correctness" && !expected.has(m))
    .map((metric) => ({ metric, condition: { op: "==", limit: 0 }, source: "default" }));
}

/** Thresholds that apply to one scenario and target, the later sources overriding the earlier. */
export function thresholdsFor(
  scenario: ThresholdScenario,
  target: string,
  fromTarget: readonly Threshold[],
  fromFlags: readonly Threshold[],
): Threshold[] {
  const byMetric = new Map<MetricName, Threshold>();
  const put = (t: Threshold) => byMetric.set(t.metric, t);
  for (const t of defaultThresholds(scenario.type)) put(t);
  for (const t of parseThresholdRecord(scenario.thresholds, "scenario", scenario.name).thresholds) put(t);
  for (const t of fromTarget) put(t);
  for (const t of fromFlags) {
    if (t.scenario !== undefined && t.scenario !== scenario.name) continue;
    if (t.target !== undefined && t.target !== target) continue;
    put(t);
  }
  return [...byMetric.values()].filter((t) => t.condition !== undefined);
}

const holds = (value: number, c: NonNullable<Threshold["condition"]>): boolean => {
  switch (c.op) {
    case "<":
      return value < c.limit;
    case "<=":
      return value <= c.limit;
    case ">":
      return value > c.limit;
    case ">=":
      return value >= c.limit;
    case "==":
      return value === c.limit;
  }
};

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

/** One result as thresholds see it: its scenario, target and figures. */
export interface JudgedResult {
  scenario: ThresholdScenario;
  target: string;
  metrics: Readonly<Record<string, number>>;
}

/**
 * Judge every threshold of every scenario and target that ran, on the median over its repeats.
 * Verdicts come in the order scenarios and targets first ran.
 */
export function judgeThresholds(
  results: readonly JudgedResult[],
  fromTarget: (target: string) => readonly Threshold[],
  fromFlags: readonly Threshold[],
): ThresholdVerdict[] {
  const groups = new Map<string, JudgedResult[]>();
  for (const r of results) {
    const id = `${r.scenario.name}\u0000${r.target}`;
    groups.set(id, [...(groups.get(id) ?? []), r]);
  }
  const verdicts: ThresholdVerdict[] = [];
  for (const runs of groups.values()) {
    const first = runs[0] as JudgedResult;
    for (const t of thresholdsFor(first.scenario, first.target, fromTarget(first.target), fromFlags)) {
      const condition = t.condition as NonNullable<Threshold["condition"]>;
      const values = runs.map((r) => r.metrics[t.metric]).filter((v): v is number => v !== undefined);
      const base = {
        scenario: first.scenario.name,
        target: first.target,
        metric: t.metric,
        condition: formatCondition(condition),
        source: t.source,
        repeats: values.length,
      };
      if (values.length === 0) {
        if (t.source !== "default") verdicts.push({ ...base, pass: false });
        continue;
      }
      // Correctness by default: the worst repeat (largest; these are counts that must be 0).
      const value = t.source === "default" ? Math.max(...values) : median(values);
      verdicts.push({
        ...base,
        value,
        min: Math.min(...values),
        max: Math.max(...values),
        pass: holds(value, condition),
      });
    }
  }
  return verdicts;
}
