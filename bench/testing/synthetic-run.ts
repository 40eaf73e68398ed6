import type { RunRecord } from "../core/run-record.ts";
// A run record made up for the tests of what reads run records (compare, the A/A study): one
// scenario on one target, whose metric values per repeat are given.

/** A run record whose metric values per repeat are given. */
export function syntheticRun(metrics: Record<string, number[]>): RunRecord {
  const repeats = Math.max(...Object.values(metrics).map((v) => v.length));
  return {
    tool: "longpoll-bench",
    run_id: "synthetic",
    started_at: "",
    finished_at: "",
    complete: true,
    exit_code: 0,
    command: [],
    suite: undefined,
    environment: {} as RunRecord["environment"],
    targets: ["reference"],
    repeat: repeats,
    scenarios: [],
    skipped: [],
    results: Array.from({ length: repeats }, (_, repeat) => ({
      scenario: "fanout",
      target: "reference",
      repeat,
      complete: true,
      warnings: [],
      flags: { driverBound: false, driverBoundPhases: [], barrierApproximate: false },
      phases: [],
      metrics: Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, v[repeat] as number])),
      error_reasons: {},
    })),
  };
}
