// When each waiter arrives: offsets in ms from the start of the connect phase, for the three
// arrival schedules. Pure functions; the worker drives them with its clock, tests with a fake one.

import type { Arrival } from "../scenarios/common.ts";

/** Offsets (ms, non-decreasing) of n arrivals: evenly spaced over the window, at a fixed rate, or all at 0. */
export function arrivalOffsetsMs(arrival: Arrival, n: number): Float64Array {
  const offsets = new Float64Array(n);
  if (arrival.type === "all-at-once") return offsets;
  const gapMs = arrival.type === "uniform" ? arrival.window_ms / n : 1000 / arrival.per_second;
  for (let i = 0; i < n; i++) offsets[i] = i * gapMs;
  return offsets;
}

/** The planned length of the arrival phase: the last offset, or 0. */
export function arrivalSpanMs(arrival: Arrival, n: number): number {
  if (arrival.type === "uniform") return arrival.window_ms;
  if (arrival.type === "rate") return ((n - 1) * 1000) / arrival.per_second;
  return 0;
}

/**
 * Index one past the last arrival due at `elapsedMs`, starting the search at `from`.
 * The caller opens arrivals [from, result) and sleeps until offsets[result].
 */
export function dueUntil(offsets: Float64Array, from: number, elapsedMs: number): number {
  let i = from;
  while (i < offsets.length && (offsets[i] as number) <= elapsedMs) i++;
  return i;
}

export interface ArrivalClock {
  /** Milliseconds since the start of the arrival phase. */
  elapsedMs(): number;
  setTimeout(fn: () => void, ms: number): void;
}

/**
 * Open every arrival at (or as soon as possible after) its offset. Late arrivals are opened in a
 * batch the moment the driver gets the CPU back, so a slow driver shows as connect latency measured
 * from the scheduled time, not as a silently stretched schedule.
 */
export function runArrivals(
  offsets: Float64Array,
  clock: ArrivalClock,
  open: (index: number) => void,
  done: () => void,
): void {
  let next = 0;
  const tick = () => {
    const end = dueUntil(offsets, next, clock.elapsedMs());
    for (; next < end; next++) open(next);
    if (next >= offsets.length) return done();
    clock.setTimeout(tick, Math.max(0, (offsets[next] as number) - clock.elapsedMs()));
  };
  tick();
}
