// CSV files of a run, as pure functions of the results (csv-stringify). Units are in column names.

import { stringify } from "csv-stringify/sync";
import { decodeHistogram, percentileRows } from "../core/metrics/histograms.ts";
import type { ScenarioResult } from "../core/result.ts";

export const SUMMARY_COLUMNS = ["scenario", "target", "repeat", "metric", "value", "unit"] as const;
export const LATENCY_COLUMNS = [
  "target",
  "repeat",
  "value_ms",
  "percentile",
  "total_count",
  "one_over_one_minus_percentile",
] as const;
export const TIMESERIES_COLUMNS = [
  "target",
  "repeat",
  "t_ms",
  "phase",
  "target_rss_bytes",
  "target_heap_bytes",
  "target_cpu_pct",
  "parked_waiters",
  "driver_cpu_pct",
  "driver_event_loop_delay_ms",
] as const;

export function summaryCsv(results: ScenarioResult[]): string {
  const rows = results.flatMap((r) =>
    r.metrics.map((m) => ({
      scenario: r.scenario.name,
      target: r.target,
      repeat: r.repeat,
      ...m,
      metric: m.name,
    })),
  );
  return stringify(rows, { header: true, columns: [...SUMMARY_COLUMNS] });
}

/**
 * The headline latency distribution of one scenario: notification latency where values were
 * delivered; else timeout lateness (timeout-storm), request latency (set-throughput) or connect latency.
 */
export function latencyCsv(results: ScenarioResult[]): string {
  const rows = results.flatMap((r) => {
    const h = r.histograms;
    const encoded = h.latency ?? h.lateness ?? h.request ?? h.connect;
    if (!encoded) return [];
    return percentileRows(decodeHistogram(encoded)).map((row) => ({
      target: r.target,
      repeat: r.repeat,
      ...row,
    }));
  });
  return stringify(rows, { header: true, columns: [...LATENCY_COLUMNS] });
}

export function timeseriesCsv(results: ScenarioResult[]): string {
  const rows = results.flatMap((r) =>
    r.timeseries.map((row) => ({ target: r.target, repeat: r.repeat, ...row })),
  );
  return stringify(rows, { header: true, columns: [...TIMESERIES_COLUMNS] });
}

const DELIVERY_COLUMNS = ["target", "repeat", "t_ms", "bucket_ms", "deliveries", "latency_mean_ms"] as const;

/** Deliveries over time per target and repeat: one row per bucket, t = 0 at the first set. */
export function deliveriesCsv(results: ScenarioResult[]): string {
  const rows = results.flatMap((r) => {
    const d = r.deliveries;
    if (!d) return [];
    return d.t_ms.map((t, i) => ({
      target: r.target,
      repeat: r.repeat,
      t_ms: t,
      bucket_ms: d.bucket_ms,
      deliveries: d.deliveries[i],
      latency_mean_ms: d.latency_mean_ms[i] ?? "",
    }));
  });
  return stringify(rows, { header: true, columns: [...DELIVERY_COLUMNS] });
}

/** A scenario's own table (memory-sweep's steps), with target and repeat in front. */
export function tableCsv(results: ScenarioResult[]): string {
  const rows = results.flatMap((r) =>
    (r.table ?? []).map((row) => ({ target: r.target, repeat: r.repeat, ...row })),
  );
  return stringify(rows, { header: true });
}
