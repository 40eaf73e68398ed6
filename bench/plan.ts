// Resolve a scenario into per-worker plans: key names, which key each waiter waits on, when it
// arrives, and which worker holds it. Pure; the driver sees only these plans, never the scenario file.

import { arrivalOffsetsMs } from "./driver/arrival-schedule.ts";
import type { WorkerPlan } from "./driver/messages.ts";
import type { BurstScenario } from "./scenario.ts";
import type { PlannedSet } from "./setter.ts";

export interface ResolvedPlan {
  keys: string[];
  workers: WorkerPlan[];
  sets: PlannedSet[];
  /** Waiters whose key receives a set: the deliveries a correct target makes. */
  expectedDeliveries: number;
}

/** Key names unique to this run and repeat, so values left on an attached target cannot answer early. */
export function keyNames(runTag: string, scenario: string, repeat: number, count: number): string[] {
  return Array.from({ length: count }, (_, k) => `lpb-${runTag}-${scenario}-r${repeat}-k${k}`);
}

export function resolvePlan(
  scenario: BurstScenario,
  opts: { workers: number; host: string; port: number; adapter: string; runTag: string; repeat: number },
): ResolvedPlan {
  const keys = keyNames(opts.runTag, scenario.name, opts.repeat, scenario.keys);
  const offsets = arrivalOffsetsMs(scenario.arrival, scenario.waiters);
  const workers: WorkerPlan[] = Array.from({ length: opts.workers }, (_, w) => ({
    workerIndex: w,
    host: opts.host,
    port: opts.port,
    adapter: opts.adapter,
    waitTimeoutS: scenario.wait_timeout_s,
    keys,
    waiterKeys: [],
    offsetsMs: [],
  }));
  // Waiters are dealt round-robin, so every worker follows the same schedule shape.
  for (let i = 0; i < scenario.waiters; i++) {
    const worker = workers[i % opts.workers] as WorkerPlan;
    worker.waiterKeys.push(i % scenario.keys);
    worker.offsetsMs.push(offsets[i] as number);
  }
  const count = scenario.sets.count;
  const gap = count > 1 ? scenario.sets.window_ms / count : 0;
  const sets = Array.from({ length: count }, (_, k) => ({ key: keys[k] as string, offsetMs: k * gap }));
  let expectedDeliveries = 0;
  for (let k = 0; k < count; k++) {
    // Waiter i waits on key i % keys: key k has ceil((waiters - k) / keys) waiters.
    expectedDeliveries += Math.ceil((scenario.waiters - k) / scenario.keys);
  }
  return { keys, workers, sets, expectedDeliveries };
}
