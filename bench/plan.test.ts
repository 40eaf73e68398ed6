import assert from "node:assert/strict";
import { test } from "node:test";
import { resolvePlan } from "./plan.ts";
import type { BurstScenario } from "./scenario.ts";

const scenario = (over: Partial<BurstScenario>): BurstScenario => ({
  name: "s",
  description: "d",
  type: "burst",
  waiters: 10,
  keys: 3,
  arrival: { type: "uniform", window_ms: 100 },
  sets: { count: 2, window_ms: 10 },
  wait_timeout_s: 60,
  deadlines: { ready_ms: 1000, collect_ms: 1000 },
  ...over,
});

const opts = { workers: 3, host: "127.0.0.1", port: 1, adapter: "seed", runTag: "t", repeat: 0 };

test("waiters are dealt round-robin to workers and keys; offsets follow the schedule", () => {
  const plan = resolvePlan(scenario({}), opts);
  assert.deepEqual(
    plan.workers.map((w) => w.waiterKeys.length),
    [4, 3, 3],
  );
  assert.deepEqual(plan.workers[0]?.waiterKeys, [0, 0, 0, 0]);
  assert.deepEqual(plan.workers[1]?.waiterKeys, [1, 1, 1]);
  assert.deepEqual(plan.workers[0]?.offsetsMs, [0, 30, 60, 90]);
  assert.equal(new Set(plan.keys).size, 3);
});

test("expected deliveries count the waiters of the keys that get a set", () => {
  // keys 0 and 1 get a set: waiters 0,3,6,9 and 1,4,7
  assert.equal(resolvePlan(scenario({}), opts).expectedDeliveries, 7);
  assert.equal(resolvePlan(scenario({ sets: { count: 3, window_ms: 0 } }), opts).expectedDeliveries, 10);
  assert.equal(resolvePlan(scenario({ sets: { count: 0, window_ms: 0 } }), opts).expectedDeliveries, 0);
});

test("sets are spread over their window, one per key", () => {
  const plan = resolvePlan(scenario({}), opts);
  assert.deepEqual(
    plan.sets.map((s) => s.offsetMs),
    [0, 5],
  );
  assert.deepEqual(
    plan.sets.map((s) => s.key),
    plan.keys.slice(0, 2),
  );
});

test("key names differ per run and repeat", () => {
  const a = resolvePlan(scenario({}), opts).keys;
  const b = resolvePlan(scenario({}), { ...opts, repeat: 1 }).keys;
  const c = resolvePlan(scenario({}), { ...opts, runTag: "u" }).keys;
  assert.notDeepEqual(a, b);
  assert.notDeepEqual(a, c);
});
