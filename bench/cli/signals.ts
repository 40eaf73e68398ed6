// Ctrl-C (SIGINT), SIGTERM or SIGHUP aborts the run: the results so far are written and the targets
// stopped. A second one leaves at once (the targets then get SIGTERM from the kernel: see spawn.ts).

import { InterruptedError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import type { Progress } from "../output/progress.ts";

/** early-signals.mjs (a preload) handles signals while the harness loads; from here, these do. */
const EARLY = Symbol.for("longpoll-bench.early-signals");

export function interruptOnSignals(progress: Progress): AbortSignal {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(ExitCode.interrupted);
    progress.line(`${signal}: stopping; the results so far are being written`);
    controller.abort(new InterruptedError(signal));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("SIGHUP", onSignal);
  (globalThis as { [EARLY]?: { release(): void } })[EARLY]?.release();
  return controller.signal;
}
