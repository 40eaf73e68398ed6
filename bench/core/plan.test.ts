import assert from "node:assert/strict";
import { test } from "node:test";
import { burstExpected, burstSets, keyNames, planWaiters, streamSets, workerRanges } from "./plan.ts";
import { seedProfile } from "./targets/builtin-profiles.ts";

const base = {
  waiters: 10,
  keys: keyNames("t", "s", 0, 3),
  arrival: { type: "uniform" as const, window_ms: 100 },
  waitTimeoutS: 60,
  mode: { kind: "burst" as const },
  workers: 3,
  host: "127.0.0.1",
  port: 1,
  profile: seedProfile,
};

test("waiters are dealt round-robin to workers and keys; offsets follow the schedule", () => {
  const plans = planWaiters(base);
  assert.deepEqual(
    plans.map((w) => w.waiterKeys.length),
    [4, 3, 3],
  );
  assert.deepEqual(plans[0]?.waiterKeys, [0, 0, 0, 0]);
  assert.deepEqual(plans[1]?.waiterKeys, [1, 1, 1]);
  assert.deepEqual(plans[0]?.offsetsMs, [0, 30, 60, 90]);
});

test("batches each start their schedule at 0; workerRanges finds each worker's share of a batch", () => {
  const plans = planWaiters({
    ...base,
    waiters: 6,
    workers: 2,
    batches: [2, 4],
    arrival: { type: "uniform", window_ms: 40 },
  });
  // global waiters 0,1 (batch 1: offsets 0, 20) then 2..5 (batch 2: offsets 0, 10, 20, 30)
  assert.deepEqual(plans[0]?.offsetsMs, [0, 0, 20]);
  assert.deepEqual(plans[1]?.offsetsMs, [20, 10, 30]);
  assert.deepEqual(workerRanges(0, 2, 2), [
    [0, 1],
    [0, 1],
  ]);
  assert.deepEqual(workerRanges(2, 6, 2), [
    [1, 3],
    [1, 3],
  ]);
});

test("burst: expected deliveries count the waiters of the keys that get a set", () => {
  // keys 0 and 1 get a set: waiters 0,3,6,9 and 1,4,7
  assert.equal(burstExpected(10, 3, 2), 7);
  assert.equal(burstExpected(10, 3, 3), 10);
  assert.equal(burstExpected(10, 3, 0), 0);
  const sets = burstSets(base.keys, 2, 10);
  assert.deepEqual(
    sets.map((s) => [s.key, s.offsetMs]),
    [
      [base.keys[0], 0],
      [base.keys[1], 5],
    ],
  );
});

test("stream: every key gets the same number of messages, numbered, at the rate", () => {
  const { sets, messagesPerKey } = streamSets(["a", "b"], 100, 0.1, true);
  assert.equal(messagesPerKey, 5);
  assert.equal(sets.length, 10);
  assert.deepEqual(sets.slice(0, 4), [
    { key: "a", offsetMs: 0, seq: 0 },
    { key: "b", offsetMs: 10, seq: 0 },
    { key: "a", offsetMs: 20, seq: 1 },
    { key: "b", offsetMs: 30, seq: 1 },
  ]);
  const fresh = streamSets(["a"], 10, 0.3, false);
  assert.deepEqual(
    fresh.sets.map((s) => s.key),
    ["a-m0", "a-m1", "a-m2"],
  );
});

test("key names differ per run and repeat", () => {
  assert.notDeepEqual(keyNames("t", "s", 0, 2), keyNames("t", "s", 1, 2));
  assert.notDeepEqual(keyNames("t", "s", 0, 2), keyNames("u", "s", 0, 2));
});
