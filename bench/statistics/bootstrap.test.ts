import assert from "node:assert/strict";
import { test } from "node:test";
import { bootstrapRatio, median, seededRandom } from "./bootstrap.ts";

test("median of odd and even samples", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});

test("the bootstrap is deterministic for a seed and brackets the ratio", () => {
  const a = [100, 104, 97, 110, 95];
  const b = [131, 126, 140, 129, 135];
  const one = bootstrapRatio(a, b);
  assert.deepEqual(one, bootstrapRatio(a, b));
  assert.ok(one.low <= one.ratio && one.ratio <= one.high);
  assert.ok(one.low > 1, `a 30% shift clears 1: ${JSON.stringify(one)}`);
});

test("samples of one noisy distribution give an interval that contains 1", () => {
  const random = seededRandom(42);
  const noisy = () => Array.from({ length: 5 }, () => 100 * (0.85 + 0.3 * random()));
  for (let i = 0; i < 20; i++) {
    const { low, high } = bootstrapRatio(noisy(), noisy(), { seed: i });
    assert.ok(low <= 1 && high >= 1, `trial ${i}: [${low}, ${high}]`);
  }
});
