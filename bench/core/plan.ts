// Resolve a scenario into plans: key names, which key each waiter waits on, when it arrives, which
// worker holds it, and the sets to fire. Pure; the driver sees only these plans, never the scenario.

import { arrivalOffsetsMs } from "./driver/arrival-schedule.ts";
import type { WaiterMode, WorkerPlan } from "./driver/messages.ts";
import type { Arrival } from "./scenario.ts";
import { messageKey } from "./set-value.ts";
import type { PlannedSet } from "./setter.ts";
import type { Profile } from "./targets/profile.ts";

/** Key names unique to this run and repeat, so values left on an attached target cannot answer early. */
export function keyNames(runTag: string, scenario: string, repeat: number, count: number): string[] {
  return Array.from({ length: count }, (_, k) => `lpb-${runTag}-${scenario}-r${repeat}-k${k}`);
}

export interface WaiterPlanInput {
  waiters: number;
  keys: string[];
  /** One schedule for all waiters; or, for a stepped scenario, one per batch (see `batches`). */
  arrival: Arrival;
  /** Batch sizes in order (their sum is `waiters`); each batch's schedule starts at 0. Default: one batch. */
  batches?: number[];
  waitTimeoutS: number;
  mode: WaiterMode;
  workers: number;
  host: string;
  port: number;
  profile: Profile;
}

/** Waiters are dealt round-robin to workers and keys, so every worker follows the same schedule shape. */
export function planWaiters(input: WaiterPlanInput): WorkerPlan[] {
  const plans: WorkerPlan[] = Array.from({ length: input.workers }, (_, w) => ({
    workerIndex: w,
    host: input.host,
    port: input.port,
    profile: input.profile,
    mode: input.mode,
    waitTimeoutS: input.waitTimeoutS,
    keys: input.keys,
    waiterKeys: [],
    offsetsMs: [],
  }));
  let i = 0;
  for (const batch of input.batches ?? [input.waiters]) {
    const offsets = arrivalOffsetsMs(input.arrival, batch);
    for (let j = 0; j < batch; j++, i++) {
      const plan = plans[i % input.workers] as WorkerPlan;
      plan.waiterKeys.push(i % input.keys.length);
      plan.offsetsMs.push(offsets[j] as number);
    }
  }
  return plans;
}

/** Per worker, the [from, to) of its own waiters that fall in global waiters [a, b) (round-robin dealing). */
export function workerRanges(a: number, b: number, workers: number): [number, number][] {
  const local = (g: number, w: number) => Math.max(0, Math.ceil((g - w) / workers));
  return Array.from({ length: workers }, (_, w) => [local(a, w), local(b, w)] as [number, number]);
}

/** Burst: one set per key for the first `count` keys, spread evenly over `windowMs`. */
export function burstSets(keys: string[], count: number, windowMs: number): PlannedSet[] {
  const gap = count > 1 ? windowMs / count : 0;
  return Array.from({ length: count }, (_, k) => ({ key: keys[k] as string, offsetMs: k * gap }));
}

/** Waiters whose key receives a burst set: waiter i waits on key i % keys. */
export function burstExpected(waiters: number, keys: number, count: number): number {
  let expected = 0;
  for (let k = 0; k < count; k++) expected += Math.ceil((waiters - k) / keys);
  return expected;
}

/**
 * Stream: `ratePerS` sets a second for `durationS`, round-robin over the keys, so every key gets the
 * same number of messages. Without a cursor, message s of a key goes to its own key (fresh-key mode).
 */
export function streamSets(
  keys: string[],
  ratePerS: number,
  durationS: number,
  cursor: boolean,
): { sets: PlannedSet[]; messagesPerKey: number } {
  const messagesPerKey = Math.max(1, Math.floor((ratePerS * durationS) / keys.length));
  const total = messagesPerKey * keys.length;
  const sets: PlannedSet[] = [];
  for (let j = 0; j < total; j++) {
    const key = keys[j % keys.length] as string;
    const seq = Math.floor(j / keys.length);
    sets.push({ key: cursor ? key : messageKey(key, seq), offsetMs: (j * 1000) / ratePerS, seq });
  }
  return { sets, messagesPerKey };
}
