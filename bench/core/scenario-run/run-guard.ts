// Every wait of a run races against Ctrl-C and the target dying: `guard` rejects at once when either
// happens, and loops that do not wait stop on `signal`. A start the failure overtakes (a target, a
// fleet) is stopped when it arrives, not left running with nobody to stop it (a fleet that finished
// starting after the abort kept the harness alive with its workers).

export class RunGuard {
  private readonly stop = new AbortController();
  private rejectFailed: (error: Error) => void = () => {};
  private readonly failed = new Promise<never>((_, reject) => {
    this.rejectFailed = reject;
  });
  private readonly onAbort = () => this.failWith(this.outer.reason as Error);

  constructor(private readonly outer: AbortSignal) {
    this.failed.catch(() => undefined);
    if (outer.aborted) this.onAbort();
    outer.addEventListener("abort", this.onAbort, { once: true });
  }

  /** Aborted on Ctrl-C or when the run fails (the target died): long loops stop at once. */
  get signal(): AbortSignal {
    return this.stop.signal;
  }

  readonly failWith = (error: Error): void => {
    this.rejectFailed(error);
    if (!this.stop.signal.aborted) this.stop.abort(error);
  };

  readonly guard = <T>(p: Promise<T>): Promise<T> => Promise.race([p, this.failed]);

  readonly guardStart = async <T>(
    starting: Promise<T>,
    stopIt: (started: T) => Promise<unknown>,
  ): Promise<T> => {
    try {
      return await this.guard(starting);
    } catch (error) {
      starting.then(
        (started) => stopIt(started).catch(() => undefined),
        () => undefined,
      );
      throw error;
    }
  };

  dispose(): void {
    this.outer.removeEventListener("abort", this.onAbort);
  }
}
