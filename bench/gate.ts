// The regression gate: the current run against the committed baseline, metric by metric as the
// thresholds file says. Timing metrics are judged as ratios to the calibration server measured in
// the same run and repeat (reference ÷ calibration), so a slower machine moves both and the ratio
// holds; memory is judged as is; correctness exactly. A regression needs the bootstrap interval to
// clear 1 *and* the ratio to pass the metric's limit. Pure functions; the CLI runs and re-runs.
//
// One exception to "judge the ratio": a driver-paced timing. When the reference's phase was
// driver-bound (a driver worker busy over half of it) in most repeats, its timing is the driver's
// pace, not the server's, and the ratio moves with the driver's speed (measured: a CI run whose
// driver needed 36–42 µs per notification instead of 28 put the 2k fan-out's p50 ratio at ×1.6 with
// the server's own CPU per notification at ×0.98). Such a timing is reported, verdict
// "driver-paced", and not judged; in the fan-out whether or not the calibration's phase was
// driver-bound too (then the ratio is the driver's pace over itself: measured, a driver ~15% costlier
// per notification put the p50 ratio at ×1.29–1.42 with both sides near the bound); in the connect
// phase, whose pace the arrival schedule sets, only when the calibration's was not. The server's CPU metrics, which the
// driver does not pace, are still judged; a slower server stops being driver-paced and is judged again.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { judge, loadRun } from "./compare.ts";
import { UsageError } from "./errors.ts";
import {
  DRIVER_PHASES,
  type DriverPhase,
  isMetricName,
  METRICS,
  type MetricSpec,
} from "./metrics/catalog.ts";
import type { RunRecord } from "./output/results-folder.ts";
import { median } from "./stats/bootstrap.ts";

export const BASELINE_DIR = new URL("../results/baseline/", import.meta.url).pathname;

const MetricThreshold = z
  .object({
    /** Largest allowed current/baseline ratio of medians (for timing and memory). */
    max_ratio: z.number().gt(1).optional(),
    /** Largest allowed increase over the baseline's worst repeat (for correctness). */
    max_increase: z.number().int().min(0).optional(),
    /** Divide by the calibration target's figure of the same repeat (default: true for timing). */
    normalize: z.boolean().optional(),
  })
  .strict();

export const ThresholdsSchema = z
  .object({
    description: z.string().optional(),
    /** The calibration target's name in the run (see --targets). */
    calibration_target: z.string().default("node-http"),
    reference_target: z.string().default("reference"),
    suite: z.string().default("ci"),
    repeat: z.number().int().min(1).max(50).default(5),
    confidence: z.number().gt(0.5).lt(1).default(0.95),
    metrics: z.record(z.string(), MetricThreshold),
  })
  .strict();

export type Thresholds = z.infer<typeof ThresholdsSchema>;

/** Read and check the thresholds file; every problem at once. An unknown metric is an error. */
export function loadThresholds(file: string): Thresholds {
  if (!existsSync(file)) throw new UsageError(`no thresholds file at ${file}`);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new UsageError(`${file}: not valid JSON (${(error as Error).message})`);
  }
  const parsed = ThresholdsSchema.safeParse(data);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((i) => `${file}: ${i.path.join(".") || "(top level)"}: ${i.message}`);
  if (parsed.success) {
    for (const [name, t] of Object.entries(parsed.data.metrics)) {
      if (!isMetricName(name)) {
        problems.push(`${file}: metrics.${name}: unknown metric; known: ${Object.keys(METRICS).join(", ")}`);
        continue;
      }
      const spec = METRICS[name];
      if (spec.better === "info") problems.push(`${file}: metrics.${name}: an info metric cannot be gated`);
      if (spec.kind === "correctness" && t.max_increase === undefined) {
        problems.push(
          `${file}: metrics.${name}: a correctness metric needs "max_increase" (0: any increase fails)`,
        );
      }
      if (spec.kind !== "correctness" && t.max_ratio === undefined) {
        problems.push(`${file}: metrics.${name}: needs "max_ratio" (e.g. 1.25)`);
      }
    }
  }
  if (problems.length) {
    throw new UsageError(`invalid thresholds file:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
  return (parsed as { data: Thresholds }).data;
}

export function loadBaseline(dir: string): RunRecord {
  const file = join(dir, "run.json");
  if (!existsSync(file)) {
    throw new UsageError(
      `no baseline run at ${file}; make one with: npm run bench:ci, then npm run baseline:update`,
    );
  }
  return loadRun(dir);
}

export interface GateRow {
  scenario: string;
  metric: string;
  normalized: boolean;
  baseline_median: number;
  current_median: number;
  ratio: number | "";
  ci_low: number | "";
  ci_high: number | "";
  limit: string;
  verdict: "pass" | "REGRESSION" | "driver-paced" | "no baseline" | "no data" | "too few repeats";
  /** For a driver-paced row: the phase and in how many repeats (e.g. "fanout in 4 of 5 repeats"). */
  paced: string;
}

/** Per scenario: repeats of the reference, and in how many each phase was paced by the driver. */
interface Pacing {
  repeats: number;
  paced: Record<DriverPhase, number>;
}

const completeResult = (run: RunRecord, scenario: string, target: string, repeat: number) =>
  run.results.find(
    (r) => r.scenario === scenario && r.target === target && r.repeat === repeat && r.complete,
  );

const boundIn = (r: RunRecord["results"][number], phase: DriverPhase) =>
  r.flags?.driverBoundPhases?.includes(phase) === true;

/**
 * Per scenario: in how many repeats the reference's phase was driver-bound so that its timing is the
 * driver's. In the fan-out the driver's receiving sets the pace on both sides, so the reference's
 * bound is enough; in the connect phase the arrival schedule sets the pace, and a timing counts as
 * paced only where the reference's phase was bound and the calibration's was not.
 */
function driverPacing(run: RunRecord, thresholds: Thresholds): Map<string, Pacing> {
  const out = new Map<string, Pacing>();
  for (const ref of run.results) {
    if (ref.target !== thresholds.reference_target || !ref.complete) continue;
    const calibration = completeResult(run, ref.scenario, thresholds.calibration_target, ref.repeat);
    const pacing = out.get(ref.scenario) ?? { repeats: 0, paced: { connect: 0, fanout: 0 } };
    out.set(ref.scenario, pacing);
    pacing.repeats += 1;
    for (const phase of DRIVER_PHASES) {
      const calibrationBound = calibration !== undefined && boundIn(calibration, phase);
      if (boundIn(ref, phase) && (phase === "fanout" || !calibrationBound)) pacing.paced[phase] += 1;
    }
  }
  return out;
}

/**
 * For a normalised timing of a phase the driver paced in over half the reference's repeats, how
 * often ("fanout in 4 of 5 repeats"); "" when the metric is judged. Only a normalised ratio mixes
 * the driver's pace with the calibration server's.
 */
function pacedBecause(metric: string, normalized: boolean, pacing: Pacing | undefined): string {
  const phase = isMetricName(metric) ? (METRICS[metric] as MetricSpec).phase : undefined;
  if (!normalized || !phase || !pacing || pacing.paced[phase] * 2 <= pacing.repeats) return "";
  return `${phase} in ${pacing.paced[phase]} of ${pacing.repeats} repeats`;
}

/** Per scenario and repeat: the gated values (reference, or reference ÷ calibration for timing). */
export function gatedSamples(run: RunRecord, thresholds: Thresholds): Map<string, Map<string, number[]>> {
  const out = new Map<string, Map<string, number[]>>();
  for (const ref of run.results) {
    if (ref.target !== thresholds.reference_target || !ref.complete) continue;
    const calibration = completeResult(run, ref.scenario, thresholds.calibration_target, ref.repeat);
    const byMetric = out.get(ref.scenario) ?? new Map<string, number[]>();
    out.set(ref.scenario, byMetric);
    for (const [name, t] of Object.entries(thresholds.metrics)) {
      const value = ref.metrics[name];
      if (value === undefined) continue;
      let sample = value;
      if (shouldNormalize(name, t.normalize)) {
        const yardstick = calibration?.metrics[name];
        if (yardstick === undefined || yardstick <= 0) continue;
        sample = value / yardstick;
      }
      const list = byMetric.get(name) ?? [];
      list.push(sample);
      byMetric.set(name, list);
    }
  }
  return out;
}

function shouldNormalize(metric: string, normalize: boolean | undefined): boolean {
  return normalize ?? (isMetricName(metric) && METRICS[metric].kind === "timing");
}

export function evaluateGate(baseline: RunRecord, current: RunRecord, thresholds: Thresholds): GateRow[] {
  const base = gatedSamples(baseline, thresholds);
  const now = gatedSamples(current, thresholds);
  const pacing = driverPacing(current, thresholds);
  const rows: GateRow[] = [];
  for (const [scenario, metrics] of now) {
    for (const [metric, t] of Object.entries(thresholds.metrics)) {
      const current = metrics.get(metric);
      if (!current || current.length === 0) continue;
      const before = base.get(scenario)?.get(metric);
      const normalized = shouldNormalize(metric, t.normalize);
      if (!before || before.length === 0) {
        rows.push({
          scenario,
          metric,
          normalized,
          baseline_median: Number.NaN,
          current_median: median(current),
          ratio: "",
          ci_low: "",
          ci_high: "",
          limit: "",
          verdict: "no baseline",
          paced: "",
        });
        continue;
      }
      const j = judge(metric, before, current, { minEffect: 0, confidence: thresholds.confidence });
      let regression: boolean;
      let limit: string;
      const paced = pacedBecause(metric, normalized, pacing.get(scenario));
      if (t.max_increase !== undefined) {
        regression = Math.max(...current) > Math.max(...before) + t.max_increase;
        limit = `+${t.max_increase}`;
      } else {
        const maxRatio = t.max_ratio as number;
        limit = `×${maxRatio}`;
        regression = j.ci_low !== "" && j.ci_low > 1 && j.ratio !== "" && j.ratio > maxRatio;
      }
      rows.push({
        scenario,
        metric,
        normalized,
        baseline_median: j.median_a,
        current_median: j.median_b,
        ratio: j.ratio,
        ci_low: j.ci_low,
        ci_high: j.ci_high,
        limit,
        verdict: paced
          ? "driver-paced"
          : regression
            ? "REGRESSION"
            : t.max_ratio !== undefined && j.verdict === "too few repeats"
              ? "too few repeats"
              : "pass",
        paced,
      });
    }
  }
  return rows;
}

/** Why some timings were not judged: which scenario's phase the driver paced, in how many repeats. */
export function pacedNote(rows: GateRow[], t: Thresholds): string {
  const where = [
    ...new Set(rows.filter((r) => r.verdict === "driver-paced").map((r) => `${r.scenario} (${r.paced})`)),
  ];
  if (where.length === 0) return "";
  return (
    `driver-paced, not judged: ${where.join("; ")}. There a driver worker was busy over half the phase ` +
    `for ${t.reference_target} (in the connect phase: and not for ${t.calibration_target}), so its timing ` +
    `and its ratio to ${t.calibration_target} measure the ` +
    `driver's pace, not the server's; the server's own CPU metrics are judged instead.\n`
  );
}

/** One record holding both runs' results; the second run's repeats are numbered after the first's. */
export function poolRuns(first: RunRecord, second: RunRecord): RunRecord {
  const offset = Math.max(-1, ...first.results.map((r) => r.repeat)) + 1;
  return {
    ...first,
    results: [...first.results, ...second.results.map((r) => ({ ...r, repeat: r.repeat + offset }))],
  };
}

/** github-action-benchmark's customSmallerIsBetter format: the reference's medians of gated metrics. */
export function benchmarkActionJson(current: RunRecord, thresholds: Thresholds): string {
  const entries: { name: string; unit: string; value: number; extra?: string }[] = [];
  const raw = gatedSamples(current, {
    ...thresholds,
    metrics: mapValues(thresholds.metrics, { normalize: false }),
  });
  const normalized = gatedSamples(current, thresholds);
  for (const [scenario, metrics] of raw) {
    for (const [metric, values] of metrics) {
      if (!isMetricName(metric) || METRICS[metric].better !== "smaller") continue;
      entries.push({
        name: `${scenario} ${metric}`,
        unit: METRICS[metric].unit,
        value: median(values),
        extra: `median of ${values.length}`,
      });
      const ratio = normalized.get(scenario)?.get(metric);
      if (ratio && shouldNormalize(metric, thresholds.metrics[metric]?.normalize)) {
        entries.push({
          name: `${scenario} ${metric} ÷ ${thresholds.calibration_target}`,
          unit: "ratio",
          value: median(ratio),
        });
      }
    }
  }
  return `${JSON.stringify(entries, null, 2)}\n`;
}

function mapValues<T, U>(record: Record<string, T>, patch: U): Record<string, T & U> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, { ...v, ...patch }]));
}
