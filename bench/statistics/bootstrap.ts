// Robust comparison of two small samples (the repeats of a metric in two runs): medians, the ratio of
// medians, and a bootstrap confidence interval for that ratio. A seeded generator makes the interval
// reproducible: the same two result folders always give the same verdict.

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** mulberry32: a small, well-distributed 32-bit PRNG; deterministic for a seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function resampleMedian(values: readonly number[], random: () => number): number {
  const draw = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) draw[i] = values[Math.floor(random() * values.length)] as number;
  return median(draw);
}

export interface RatioEstimate {
  /** median(b) / median(a). */
  ratio: number;
  low: number;
  high: number;
}

/**
 * Percentile bootstrap of median(b)/median(a): resample each side with replacement, `rounds` times.
 * With few repeats the interval is wide, which is the honest answer: a verdict needs it to clear 1.
 */
export function bootstrapRatio(
  a: readonly number[],
  b: readonly number[],
  { confidence = 0.95, rounds = 4000, seed = 0x5eed } = {},
): RatioEstimate {
  const ratio = median(b) / median(a);
  const random = seededRandom(seed);
  const ratios: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const ma = resampleMedian(a, random);
    if (ma !== 0) ratios.push(resampleMedian(b, random) / ma);
  }
  if (ratios.length === 0) return { ratio, low: ratio, high: ratio };
  ratios.sort((x, y) => x - y);
  const tail = (1 - confidence) / 2;
  const at = (q: number) =>
    ratios[Math.min(ratios.length - 1, Math.max(0, Math.floor(q * ratios.length)))] as number;
  return { ratio, low: at(tail), high: at(1 - tail) };
}
