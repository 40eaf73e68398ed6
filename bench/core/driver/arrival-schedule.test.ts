import assert from "node:assert/strict";
import { test } from "node:test";
import { arrivalOffsetsMs, arrivalSpanMs, dueUntil, runArrivals } from "./arrival-schedule.ts";

test("uniform spreads arrivals evenly over the window", () => {
  const offsets = arrivalOffsetsMs({ type: "uniform", window_ms: 1000 }, 4);
  assert.deepEqual([...offsets], [0, 250, 500, 750]);
  assert.equal(arrivalSpanMs({ type: "uniform", window_ms: 1000 }, 4), 1000);
});

test("rate spaces arrivals 1/rate apart; all-at-once puts them at 0", () => {
  assert.deepEqual([...arrivalOffsetsMs({ type: "rate", per_second: 100 }, 3)], [0, 10, 20]);
  assert.equal(arrivalSpanMs({ type: "rate", per_second: 100 }, 3), 20);
  assert.deepEqual([...arrivalOffsetsMs({ type: "all-at-once" }, 3)], [0, 0, 0]);
});

test("dueUntil finds the arrivals due by a time", () => {
  const offsets = Float64Array.from([0, 10, 10, 20]);
  assert.equal(dueUntil(offsets, 0, 9.9), 1);
  assert.equal(dueUntil(offsets, 1, 10), 3);
  assert.equal(dueUntil(offsets, 3, 100), 4);
});

test("runArrivals opens each arrival at its time on an injected clock, late ones in a batch", () => {
  let now = 0;
  const timers: { at: number; fn: () => void }[] = [];
  const opened: [number, number][] = [];
  let finished = false;
  runArrivals(
    Float64Array.from([0, 5, 10, 15]),
    { elapsedMs: () => now, setTimeout: (fn, ms) => timers.push({ at: now + ms, fn }) },
    (i) => opened.push([i, now]),
    () => {
      finished = true;
    },
  );
  assert.deepEqual(opened, [[0, 0]]);
  const step = (to: number) => {
    now = to;
    const t = timers.shift();
    assert.ok(t, "a timer is pending");
    t.fn();
  };
  step(5);
  assert.deepEqual(opened.at(-1), [1, 5]);
  step(16); // the driver was late: arrivals 2 and 3 open together, at once
  assert.deepEqual(opened.slice(2), [
    [2, 16],
    [3, 16],
  ]);
  assert.ok(finished);
  assert.equal(timers.length, 0);
});
