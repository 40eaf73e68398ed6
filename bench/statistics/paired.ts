// Paired rounds: base and head measured one after the other in the same round, judged on the ratio
// head ÷ base of each round. The estimate is the Hodges–Lehmann shift of the rounds' log ratios (the
// median of their pairwise averages) and the interval is the exact Wilcoxon signed-rank interval:
// distribution-free, and one round that a hiccup of the machine spoiled moves neither much. Both
// are computed on logs so that ×1.2 and ×(1/1.2) are the same distance from 1.

export interface PairedEstimate {
  /** exp(Hodges–Lehmann estimate of the log ratios): the typical head ÷ base. */
  ratio: number;
  /** The interval's ends (0 and Infinity when too few rounds to bound it at this confidence). */
  low: number;
  high: number;
  /** Rounds it was computed from. */
  rounds: number;
}

/**
 * P(T ≤ t) for t = 0..n(n+1)/2, T the Wilcoxon signed-rank statistic of n pairs under no shift: the
 * number of subsets of the ranks 1..n that sum to t, over 2^n (built one rank at a time, in halves
 * so that no count overflows a double).
 */
export function signedRankCdf(n: number): number[] {
  const max = (n * (n + 1)) / 2;
  let p = new Array<number>(max + 1).fill(0);
  p[0] = 1;
  for (let rank = 1; rank <= n; rank++) {
    const next = new Array<number>(max + 1).fill(0);
    for (let t = 0; t <= max; t++) {
      const here = p[t] as number;
      if (here === 0) continue;
      next[t] = (next[t] as number) + here / 2;
      if (t + rank <= max) next[t + rank] = (next[t + rank] as number) + here / 2;
    }
    p = next;
  }
  let sum = 0;
  return p.map((x) => {
    sum += x;
    return sum;
  });
}

/** Hodges–Lehmann estimate and signed-rank interval of a sample's centre (here: log ratios). */
export function signedRankInterval(
  values: readonly number[],
  confidence = 0.95,
): { estimate: number; low: number; high: number } {
  const n = values.length;
  if (n === 0) return { estimate: Number.NaN, low: -Infinity, high: Infinity };
  const walsh: number[] = [];
  for (let i = 0; i < n; i++)
    for (let j = i; j < n; j++) walsh.push(((values[i] as number) + (values[j] as number)) / 2);
  walsh.sort((a, b) => a - b);
  const m = walsh.length;
  const mid = m >> 1;
  const estimate = m % 2 ? (walsh[mid] as number) : ((walsh[mid - 1] as number) + (walsh[mid] as number)) / 2;
  // The largest c with P(T ≤ c) ≤ α/2; the interval is the (c+1)-th smallest to the (c+1)-th largest.
  const cdf = signedRankCdf(n);
  const tail = (1 - confidence) / 2;
  let c = -1;
  while (c + 1 < cdf.length && (cdf[c + 1] as number) <= tail + 1e-12) c++;
  if (c < 0) return { estimate, low: -Infinity, high: Infinity }; // too few rounds for this confidence
  return { estimate, low: walsh[c] as number, high: walsh[m - 1 - c] as number };
}

/** head ÷ base over paired rounds (both sides positive), as a ratio with its interval. */
export function pairedRatio(
  base: readonly number[],
  head: readonly number[],
  confidence = 0.95,
): PairedEstimate {
  const logs: number[] = [];
  for (let i = 0; i < Math.min(base.length, head.length); i++) {
    const b = base[i] as number;
    const h = head[i] as number;
    if (b > 0 && h > 0 && Number.isFinite(b) && Number.isFinite(h)) logs.push(Math.log(h / b));
  }
  const r = signedRankInterval(logs, confidence);
  return { ratio: Math.exp(r.estimate), low: Math.exp(r.low), high: Math.exp(r.high), rounds: logs.length };
}

/** The fewest rounds whose signed-rank interval is bounded at this confidence (6 at 95%). */
export function fewestRounds(confidence = 0.95): number {
  for (let n = 1; n < 64; n++)
    if (Number.isFinite(signedRankInterval(new Array(n).fill(0), confidence).low)) return n;
  return 64;
}
