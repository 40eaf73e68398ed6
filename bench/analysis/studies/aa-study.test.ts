// The A/A study's rule on synthetic pairs: a metric unchanged code moved with a confident interval
// gets a minimum effect above that shift (with margin), one it never moved keeps the default, and
// correctness metrics are not part of it (they are compared exactly).

import assert from "node:assert/strict";
import { test } from "node:test";
import { syntheticRun } from "../../testing/synthetic-run.ts";
import { aaStudy } from "./aa-study.ts";

test("the study raises the minimum effect only where unchanged code moved more than 15%", () => {
  const steady = [100, 101, 99, 100, 102];
  const pairs = [
    // Pair 1: p50 latency moved +25%, every repeat (a confident shift between two runs of one code).
    [
      syntheticRun({ latency_p50_ms: steady, all_parked_ms: steady, missing: [0, 0, 0, 0, 0] }),
      syntheticRun({
        latency_p50_ms: steady.map((x) => x * 1.25),
        all_parked_ms: steady,
        missing: [0, 0, 0, 0, 0],
      }),
    ],
    [
      syntheticRun({ latency_p50_ms: steady, all_parked_ms: steady, missing: [0, 0, 0, 0, 0] }),
      syntheticRun({
        latency_p50_ms: steady,
        all_parked_ms: steady.map((x) => x * 1.05),
        missing: [0, 0, 0, 0, 0],
      }),
    ],
  ] as const;
  const byName = Object.fromEntries(aaStudy(pairs).map((m) => [m.metric, m]));
  const p50 = byName.latency_p50_ms;
  assert.ok(p50);
  assert.equal(p50.pairs, 2);
  assert.ok(Math.abs(p50.largestConfidentShift - 0.25) < 1e-9);
  assert.equal(p50.falseAtDefault, 1);
  assert.equal(p50.minEffect, 0.35, "25% × 1.25 margin, rounded up to 5%");
  assert.equal(p50.falseAtMinEffect, 0);
  const parked = byName.all_parked_ms;
  assert.ok(parked);
  assert.equal(parked.minEffect, 0.15, "a 5% shift stays under the default");
  assert.equal(parked.falseAtDefault, 0);
  assert.equal(byName.missing, undefined, "correctness is compared exactly, not by the study");
});
