// HDR histograms, built in one place. Values are recorded in microseconds. Between processes and
// runs a histogram travels in its compressed base64 encoding and is merged by adding; nothing
// downstream ever sees raw samples.

import * as hdr from "hdr-histogram-js";

export type Histogram = hdr.Histogram;

/** Up to one hour in µs at 3 significant digits; auto-resizes beyond that rather than clipping. */
export function newHistogram(): Histogram {
  return hdr.build({
    bitBucketSize: 32,
    autoResize: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
  });
}

export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function decodeHistogram(encoded: string): Histogram {
  return hdr.decodeFromCompressedBase64(encoded, 32);
}

/** Merge encoded histograms (from workers, repeats or hosts) into one. */
export function mergeEncoded(encoded: Iterable<string>): Histogram {
  const total = newHistogram();
  for (const e of encoded) total.add(decodeHistogram(e));
  return total;
}

export interface LatencySummary {
  count: number;
  min_ms: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  p999_ms: number;
  max_ms: number;
  mean_ms: number;
}

const ms = (us: number) => Math.round(us) / 1000;

export function summarize(h: Histogram): LatencySummary {
  if (h.totalCount === 0) {
    return { count: 0, min_ms: 0, p50_ms: 0, p90_ms: 0, p99_ms: 0, p999_ms: 0, max_ms: 0, mean_ms: 0 };
  }
  return {
    count: h.totalCount,
    min_ms: ms(h.minNonZeroValue),
    p50_ms: ms(h.getValueAtPercentile(50)),
    p90_ms: ms(h.getValueAtPercentile(90)),
    p99_ms: ms(h.getValueAtPercentile(99)),
    p999_ms: ms(h.getValueAtPercentile(99.9)),
    max_ms: ms(h.maxValue),
    mean_ms: ms(h.mean),
  };
}

export interface PercentileRow {
  value_ms: number;
  percentile: number;
  total_count: number;
  one_over_one_minus_percentile: number | "";
}

/** The HDR percentile distribution (as HdrHistogram prints it), in milliseconds, as rows. */
export function percentileRows(h: Histogram, ticksPerHalfDistance = 5): PercentileRow[] {
  if (h.totalCount === 0) return [];
  const rows: PercentileRow[] = [];
  for (const line of h.outputPercentileDistribution(ticksPerHalfDistance, 1000).split("\n")) {
    const cells = line.trim().split(/\s+/);
    if (cells.length < 3 || line.startsWith("#") || !/^[\d.]+$/.test(cells[0] ?? "")) continue;
    rows.push({
      value_ms: Number(cells[0]),
      percentile: Number(cells[1]),
      total_count: Number(cells[2]),
      one_over_one_minus_percentile: cells[3] === undefined ? "" : Number(cells[3]),
    });
  }
  return rows;
}

/** A name as it may stand in an hlog tag (the report's loader maps tags back with it). */
export const tagSafe = (s: string) => s.replace(/[^A-Za-z0-9_.:-]/g, "_");
