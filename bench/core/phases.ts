// The phase clock of one scenario run: which phase is current, when each began and how long it took.
// Time is injected so the phase machine is tested exactly.

export const PHASES = [
  "preflight",
  "start",
  "warmup",
  "connect",
  "ready",
  "fire",
  "collect",
  "drain",
  "stop",
] as const;
export type Phase = (typeof PHASES)[number];

export interface PhaseTiming {
  phase: Phase;
  start_ms: number;
  duration_ms: number;
}

export class PhaseRecorder {
  private readonly origin: number;
  private readonly done: PhaseTiming[] = [];
  private open: { phase: Phase; start: number } | undefined;

  constructor(
    private readonly now: () => number = () => performance.now(),
    private readonly onChange: (phase: Phase) => void = () => {},
  ) {
    this.origin = now();
  }

  /** Milliseconds since the recorder was made. */
  elapsed(): number {
    return this.now() - this.origin;
  }

  get current(): Phase | undefined {
    return this.open?.phase;
  }

  /** End the open phase (if any) and begin the next. Phases must follow PHASES order. */
  begin(phase: Phase): void {
    const last = this.open?.phase ?? this.done.at(-1)?.phase;
    if (last !== undefined && PHASES.indexOf(phase) <= PHASES.indexOf(last)) {
      throw new Error(`phase "${phase}" cannot follow "${last}"`);
    }
    this.end();
    this.open = { phase, start: this.now() };
    this.onChange(phase);
  }

  end(): void {
    if (!this.open) return;
    const start = this.open.start;
    this.done.push({
      phase: this.open.phase,
      start_ms: start - this.origin,
      duration_ms: this.now() - start,
    });
    this.open = undefined;
  }

  timings(): PhaseTiming[] {
    return [...this.done];
  }

  duration(phase: Phase): number | undefined {
    return this.done.find((t) => t.phase === phase)?.duration_ms;
  }
}
