// The exit codes of bench, compare and gate (README, "Exit codes"), in one place.
export const ExitCode = {
  ok: 0,
  regression: 1,
  invalidInput: 2,
  targetFailed: 3,
  hostLimits: 4,
  interrupted: 5,
  /** Load agents (--agents): too few at the start, or one lost mid-run (its waiters are the load generator's loss). */
  loadGenerator: 6,
  /** Every run finished and was measured, and a threshold failed (its default ones: any lost, duplicated, ...). */
  thresholdFailed: 7,
  /** A bug in the harness itself (an unexpected exception): EX_SOFTWARE, distinct from every verdict. */
  internal: 70,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
