// A RunContext for the engine's own tests: quiet progress, this host's limits, a signal nobody aborts
// unless the test passes its own. And the one-line metric lookup the tests assert on.

import { readHostLimits } from "../core/preflight.ts";
import type { ScenarioResult } from "../core/result.ts";
import type { RunContext } from "../core/run.ts";
import { createProgress } from "../output/progress.ts";

export function testContext(
  startTarget: RunContext["startTarget"],
  over: Partial<RunContext> = {},
): RunContext {
  return {
    targetName: "test-target",
    startTarget,
    targetProcesses: () => 1,
    targetHost: "127.0.0.1",
    workers: 2,
    signal: new AbortController().signal,
    progress: createProgress(process.stderr, true),
    runTag: "test",
    repeat: 0,
    hostLimits: readHostLimits(),
    ...over,
  };
}

export const metricOf = (r: ScenarioResult, name: string): number | undefined =>
  r.metrics.find((m) => m.name === name)?.value;
