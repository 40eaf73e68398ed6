// What the run tells the person watching it, as an interface: the core says what happens, and an
// output module (output/progress.ts: a live line on a terminal, plain lines in a log) shows it.

export interface RunStart {
  /** 1-based position among the session's scenario runs, and how many there are. */
  index: number;
  total: number;
  scenario: string;
  target: string;
  /** 0-based repeat, and the repeats in the session. */
  repeat: number;
  repeats: number;
  /** Estimated time left for the whole session at this run's start, ms (from the schedules). */
  etaMs: number;
  /** This run's own estimate, ms. */
  expectedMs: number;
}

export interface Progress {
  /** A scenario run begins. */
  runStart(run: RunStart): void;
  /** A new phase began. */
  phase(scenario: string, phase: string): void;
  /** A detail of the current phase (e.g. parked 4,210 / 5,000); shown on terminals only. */
  detail(text: string): void;
  /** A line that stays. */
  line(text: string): void;
  done(): void;
}
