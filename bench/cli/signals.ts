// Ctrl-C (or SIGTERM) aborts the run: the results so far are written. A second one leaves at once.

import { InterruptedError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import type { Progress } from "../output/progress.ts";

export function interruptOnSignals(progress: Progress): AbortSignal {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(ExitCode.interrupted);
    progress.line(`${signal}: stopping; the results so far are being written`);
    controller.abort(new InterruptedError(signal));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return controller.signal;
}
