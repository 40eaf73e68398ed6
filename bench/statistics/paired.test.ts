import assert from "node:assert/strict";
import { test } from "node:test";
import { seededRandom } from "./bootstrap.ts";
import { fewestRounds, pairedRatio, signedRankCdf, signedRankInterval } from "./paired.ts";

test("the signed-rank distribution matches the published critical values", () => {
  // Two-sided 5%: T ≤ 8 at n = 10, T ≤ 52 at n = 20 (tables of the Wilcoxon signed-rank test).
  const n10 = signedRankCdf(10);
  assert.ok((n10[8] as number) <= 0.025 && (n10[9] as number) > 0.025);
  const n20 = signedRankCdf(20);
  assert.ok((n20[52] as number) <= 0.025 && (n20[53] as number) > 0.025);
  assert.equal(n10[55], 1);
});

test("fewer than 6 rounds cannot bound a 95% interval; 6 can", () => {
  assert.equal(fewestRounds(0.95), 6);
  const five = signedRankInterval([0.1, 0.2, 0.3, 0.4, 0.5]);
  assert.deepEqual([five.low, five.high], [-Infinity, Infinity]);
  const six = signedRankInterval([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
  assert.deepEqual([six.low, six.high], [0.1, 0.6]);
});

test("head ÷ base per round: a machine that slows down during the run divides out", () => {
  // The machine slows by 3x over the rounds; the head is 20% slower than the base in every round.
  const base = Array.from({ length: 12 }, (_, i) => 10 * (1 + i / 5));
  const head = base.map((b) => b * 1.2);
  const r = pairedRatio(base, head);
  assert.ok(Math.abs(r.ratio - 1.2) < 1e-9);
  assert.ok(Math.abs(r.low - 1.2) < 1e-9 && Math.abs(r.high - 1.2) < 1e-9);
  assert.equal(r.rounds, 12);
});

test("one spoiled round moves the estimate little and never decides alone", () => {
  const random = seededRandom(3);
  const base = Array.from({ length: 12 }, () => 10 + random());
  const head = base.map((b) => b * (1 + (random() - 0.5) / 20));
  head[4] = (head[4] as number) * 3; // a hiccup in one round, on one side
  const r = pairedRatio(base, head);
  assert.ok(r.ratio < 1.05, `estimate ${r.ratio}`);
  assert.ok(r.low < 1.05, `low ${r.low}`);
});

test("rounds where a side has no positive figure are left out", () => {
  const r = pairedRatio([10, 0, 10, 10, 10, 10, 10], [11, 5, 11, 11, 11, 11, 11]);
  assert.equal(r.rounds, 6);
  assert.ok(Math.abs(r.ratio - 1.1) < 1e-9);
});

test("coverage: A/A samples of lognormal noise, the 95% interval holds 1 in about 95% of trials", () => {
  const random = seededRandom(11);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  let covered = 0;
  const trials = 400;
  for (let t = 0; t < trials; t++) {
    const base = Array.from({ length: 10 }, () => Math.exp(0.2 * normal()));
    const head = Array.from({ length: 10 }, () => Math.exp(0.2 * normal()));
    const r = pairedRatio(base, head);
    if (r.low <= 1 && r.high >= 1) covered++;
  }
  // Exact interval: at least 95% nominal (here 1 − 2 × 0.0244); 400 trials leave a few % of room.
  assert.ok(covered / trials >= 0.92, `${covered} of ${trials}`);
});
