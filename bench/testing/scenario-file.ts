// Small burst scenarios for tests: one written to a file, for tests that drive the CLIs end to end; `body`
// overrides or adds fields (a bad field makes a bad file on purpose).

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BurstScenario } from "../core/scenario.ts";

export function scenarioFile(dir: string, name: string, body: Record<string, unknown> = {}): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      name,
      description: "test scenario",
      type: "burst",
      waiters: 100,
      keys: 1,
      arrival: { type: "uniform", window_ms: 200 },
      sets: { count: 1 },
      ...body,
    }),
  );
  return file;
}

/** A small burst scenario as the engine takes it (all fields resolved), for tests that run it in-process. */
export function burstScenario(over: Partial<BurstScenario> = {}): BurstScenario {
  return {
    name: "small",
    description: "test",
    type: "burst",
    waiters: 300,
    keys: 3,
    arrival: { type: "uniform", window_ms: 300 },
    sets: { count: 3, window_ms: 0 },
    wait_timeout_s: 60,
    deadlines: { ready_ms: 20_000, collect_ms: 10_000 },
    ...over,
  };
}
