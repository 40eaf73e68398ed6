// Deliveries over time: how many notifications arrived in each 10 ms of the run, and their mean
// latency, with t = 0 at the first set's scheduled send. The report draws the event from it
// (deliveries per second and latency over time, every target on one axis).
//
// A worker counts into buckets of the coordinator's monotonic clock (the one the setter's scheduled
// send times are on: a load agent's workers shift their own clock onto it, as for latency); the
// coordinator adds the workers' buckets and places t = 0 at the earliest scheduled send any worker saw.

/** The width of a bucket. */
export const BUCKET_MS = 10;
const BUCKET_NS = BUCKET_MS * 1e6;
/** At most this many buckets in a result (200 s at 10 ms); a longer run's buckets are merged in pairs. */
const MAX_BUCKETS = 20_000;

/** A worker's buckets: bucket index (monotonic ns / BUCKET_NS) → [deliveries, latency sum µs]. */
export class TimelineRecorder {
  private readonly buckets = new Map<number, [number, number]>();
  private firstScheduledNs: bigint | undefined;

  record(scheduledNs: bigint, arrivalNs: bigint, latencyUs: number): void {
    const index = Math.floor(Number(arrivalNs) / BUCKET_NS);
    let b = this.buckets.get(index);
    if (b === undefined) {
      b = [0, 0];
      this.buckets.set(index, b);
    }
    b[0]++;
    b[1] += latencyUs;
    if (this.firstScheduledNs === undefined || scheduledNs < this.firstScheduledNs)
      this.firstScheduledNs = scheduledNs;
  }

  /** For the worker's results message (plain JSON). */
  toJSON(): WorkerTimeline {
    return {
      buckets: [...this.buckets].map(([i, [n, sum]]) => [i, n, sum]),
      firstScheduledNs: this.firstScheduledNs?.toString(),
    };
  }
}

export interface WorkerTimeline {
  /** [bucket index, deliveries, latency sum µs]. */
  buckets: [number, number, number][];
  firstScheduledNs: string | undefined;
}

/** The run's deliveries over time: every bucket from the first set on, empty ones as 0. */
export interface DeliveryTimeline {
  bucket_ms: number;
  /** Start of each bucket, ms after the first set's scheduled send. */
  t_ms: number[];
  deliveries: number[];
  /** Mean notification latency of the bucket's deliveries; null for an empty bucket. */
  latency_mean_ms: (number | null)[];
}

/** Add the workers' buckets; undefined when nothing was delivered. */
export function mergeTimelines(parts: readonly (WorkerTimeline | undefined)[]): DeliveryTimeline | undefined {
  const sums = new Map<number, [number, number]>();
  let first: bigint | undefined;
  for (const p of parts) {
    if (p === undefined) continue;
    for (const [i, n, sum] of p.buckets) {
      const b = sums.get(i) ?? [0, 0];
      b[0] += n;
      b[1] += sum;
      sums.set(i, b);
    }
    if (p.firstScheduledNs !== undefined) {
      const f = BigInt(p.firstScheduledNs);
      if (first === undefined || f < first) first = f;
    }
  }
  if (sums.size === 0 || first === undefined) return undefined;
  const indices = [...sums.keys()];
  const lo = Math.min(...indices);
  const hi = Math.max(...indices);
  let width = 1;
  while ((hi - lo + 1) / width > MAX_BUCKETS) width *= 2;
  const zeroMs = Number(first) / 1e6;
  const out: DeliveryTimeline = {
    bucket_ms: BUCKET_MS * width,
    t_ms: [],
    deliveries: [],
    latency_mean_ms: [],
  };
  for (let i = lo; i <= hi; i += width) {
    let n = 0;
    let sum = 0;
    for (let k = i; k < i + width; k++) {
      const b = sums.get(k);
      if (b) {
        n += b[0];
        sum += b[1];
      }
    }
    out.t_ms.push(Math.round((i * BUCKET_MS - zeroMs) * 10) / 10);
    out.deliveries.push(n);
    out.latency_mean_ms.push(n > 0 ? Math.round(sum / n / 10) / 100 : null);
  }
  return out;
}
