// Every error the harness reports to a user: one class per failure under one base class, each with a
// stable code (never reused) and the exit code it ends the run with. Messages name the problem and the fix.

import { ExitCode, type ExitCodeValue } from "./exit-codes.ts";

export abstract class BenchError extends Error {
  abstract readonly code: string;
  abstract readonly exitCode: ExitCodeValue;
}

/** A bad flag or argument. */
export class UsageError extends BenchError {
  readonly code = "LPB_ERR_USAGE";
  readonly exitCode = ExitCode.invalidInput;
}

/** One or more problems in scenario files; all are listed at once, each with its file and path. */
export class ScenarioError extends BenchError {
  readonly code = "LPB_ERR_SCENARIO";
  readonly exitCode = ExitCode.invalidInput;
  constructor(readonly problems: string[]) {
    super(`invalid scenario:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

/** The target did not start, refused connections, or died mid-run. */
export class TargetError extends BenchError {
  readonly code = "LPB_ERR_TARGET";
  readonly exitCode = ExitCode.targetFailed;
}

/** A host limit (open files, ephemeral ports) is too low for the scenario. */
export class HostLimitError extends BenchError {
  readonly code = "LPB_ERR_HOST_LIMIT";
  readonly exitCode = ExitCode.hostLimits;
}

/** The user pressed Ctrl-C (SIGINT) or sent SIGTERM. */
export class InterruptedError extends BenchError {
  readonly code = "LPB_ERR_INTERRUPTED";
  readonly exitCode = ExitCode.interrupted;
  constructor(signal: string) {
    super(`interrupted by ${signal}`);
  }
}

/**
 * Load agents (--agents): too few live at the start (before any load is sent), or one died or
 * disconnected mid-run: its waiters are lost to the load generator, not notifications the server
 * missed, and the run is incomplete.
 */
export class AgentsError extends BenchError {
  readonly code = "LPB_ERR_AGENTS";
  readonly exitCode = ExitCode.loadGenerator;
  /** The agent lost mid-run, where one was. */
  constructor(
    message: string,
    readonly agent?: string,
  ) {
    super(message);
  }
}
