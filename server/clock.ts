// Time as the server sees it, injected: expiry, timeouts and the idle collector all read this, so
// tests drive them with testing/fake-clock.ts instead of sleeping.

export type TimerHandle = unknown;

export interface Clock {
  /** Milliseconds since the epoch (values expire on wall-clock time, as `valid_begin` is epoch seconds). */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Real time. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
