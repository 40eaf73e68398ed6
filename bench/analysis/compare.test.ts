// Compare on synthetic result folders: a 30% slower distribution is worse, two samples of one
// distribution are within noise, a correctness increase always fails; and the CLI end to end.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { tsxNodeArgs } from "../child-process.ts";
import type { RunRecord } from "../core/run-record.ts";
import { seededRandom } from "../statistics/bootstrap.ts";
import { syntheticRun } from "../testing/synthetic-run.ts";
import {
  compareRuns,
  conditionNotes,
  DEFAULT_COMPARE,
  differingScenarios,
  judge,
  unmatched,
} from "./compare.ts";

const COMPARE_CLI = new URL("../cli/compare.ts", import.meta.url).pathname;

/** n draws of a noisy measurement around `centre`: ±15% uniform noise, like this shared machine. */
function noisy(random: () => number, centre: number, n = 5): number[] {
  return Array.from({ length: n }, () => centre * (0.85 + 0.3 * random()));
}

describe("compare", () => {
  // Rates over many seeded trials (deterministic): the gate's promise is about both error kinds.
  const TRIALS = 200;
  test("a 30% slower distribution is flagged worse (≥ 90% of trials, never better)", () => {
    const random = seededRandom(7);
    let caught = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const verdict = judge(
        "latency_p99_ms",
        noisy(random, 100),
        noisy(random, 130),
        DEFAULT_COMPARE,
      ).verdict;
      if (verdict === "worse") caught++;
      assert.notEqual(verdict, "better");
    }
    assert.ok(caught >= 0.9 * TRIALS, `caught ${caught} of ${TRIALS}`);
  });

  test("two samples of one distribution are within noise (≤ 2% false alarms)", () => {
    const random = seededRandom(11);
    let alarms = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      if (
        judge("latency_p99_ms", noisy(random, 100), noisy(random, 100), DEFAULT_COMPARE).verdict !==
        "within noise"
      ) {
        alarms++;
      }
    }
    assert.ok(alarms <= 0.02 * TRIALS, `${alarms} false alarms in ${TRIALS}`);
  });

  test("a statistically sure 1% is below the minimum effect", () => {
    const a = [100, 100.1, 99.9, 100, 100.05];
    const b = a.map((x) => x * 1.01);
    assert.equal(judge("latency_p99_ms", a, b, DEFAULT_COMPARE).verdict, "within noise");
  });

  test("correctness figures are exact: any increase is worse", () => {
    assert.equal(judge("missing", [0, 0, 0], [0, 1, 0], DEFAULT_COMPARE).verdict, "worse");
    assert.equal(judge("duplicates", [0, 0, 0], [0, 0, 0], DEFAULT_COMPARE).verdict, "same");
    assert.equal(judge("errors", [2, 0, 0], [1, 0, 0], DEFAULT_COMPARE).verdict, "better");
  });

  test("larger-is-better metrics turn the verdict around; info metrics are left out", () => {
    const rows = compareRuns(
      syntheticRun({ parked_within_window: [1000, 1010, 990], waiters: [1000, 1000, 1000] }),
      syntheticRun({ parked_within_window: [600, 610, 590], waiters: [1000, 1000, 1000] }),
    );
    assert.deepEqual(
      rows.map((r) => [r.metric, r.verdict]),
      [["parked_within_window", "worse"]],
    );
  });

  test("the CLI prints the table and writes compare.csv; bad folders exit 2", () => {
    const dir = mkdtempSync(join(tmpdir(), "lpb-compare-"));
    const random = seededRandom(3);
    for (const [name, centre, missing] of [
      ["a", 100, 0],
      ["b", 250, 1],
    ] as const) {
      mkdirSync(join(dir, name));
      const run = syntheticRun({
        time_to_last_delivery_ms: noisy(random, centre),
        missing: [0, missing, 0, 0, 0],
      });
      writeFileSync(join(dir, name, "run.json"), JSON.stringify(run));
    }
    const r = spawnSync(process.execPath, [...tsxNodeArgs(), COMPARE_CLI, join(dir, "a"), join(dir, "b")], {
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /time_to_last_delivery_ms.*WORSE/);
    assert.match(r.stdout, /missing.*WORSE/);
    const csv = readFileSync(join(dir, "b", "compare.csv"), "utf8");
    assert.match(csv, /^scenario,target,metric,unit,n_a,n_b,median_a,median_b,ratio,ci_low,ci_high,verdict/);
    assert.match(csv, /fanout,reference,missing,count,5,5,0,0,,,,worse/);
    const bad = spawnSync(
      process.execPath,
      [...tsxNodeArgs(), COMPARE_CLI, join(dir, "a"), join(dir, "nope")],
      {
        encoding: "utf8",
      },
    );
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /no run\.json/);
    // A negative figure is a damaged file: exit 2 naming it, not a verdict.
    mkdirSync(join(dir, "negative"));
    writeFileSync(
      join(dir, "negative", "run.json"),
      JSON.stringify(syntheticRun({ time_to_last_delivery_ms: [-5, 100, 100] })),
    );
    const negative = spawnSync(
      process.execPath,
      [...tsxNodeArgs(), COMPARE_CLI, join(dir, "a"), join(dir, "negative")],
      { encoding: "utf8" },
    );
    assert.equal(negative.status, 2, negative.stderr);
    assert.match(negative.stderr, /time_to_last_delivery_ms/);
    // --fail-on-worse turns a worse verdict into exit 1.
    const failing = spawnSync(
      process.execPath,
      [
        ...tsxNodeArgs(),
        COMPARE_CLI,
        join(dir, "a"),
        join(dir, "b"),
        "--fail-on-worse",
        "--csv",
        join(dir, "x.csv"),
      ],
      { encoding: "utf8" },
    );
    assert.equal(failing.status, 1, failing.stderr);
    // Nothing is overwritten: the same --csv again is refused; in B, a second compare.csv is -2.
    const again = spawnSync(
      process.execPath,
      [...tsxNodeArgs(), COMPARE_CLI, join(dir, "a"), join(dir, "b"), "--csv", join(dir, "x.csv")],
      { encoding: "utf8" },
    );
    assert.equal(again.status, 2, again.stderr);
    assert.match(again.stderr, /x\.csv: the file exists; results are never overwritten/);
    writeFileSync(join(dir, "b", "compare.csv"), "an earlier comparison\n");
    const second = spawnSync(
      process.execPath,
      [...tsxNodeArgs(), COMPARE_CLI, join(dir, "a"), join(dir, "b")],
      {
        encoding: "utf8",
      },
    );
    assert.equal(second.status, 0, second.stderr);
    assert.equal(readFileSync(join(dir, "b", "compare.csv"), "utf8"), "an earlier comparison\n");
    assert.match(readFileSync(join(dir, "b", "compare-2.csv"), "utf8"), /fanout,reference,missing/);
  });

  test("a zero median with one repeat: too few repeats, not better", () => {
    const [row] = compareRuns(syntheticRun({ latency_p99_ms: [5] }), syntheticRun({ latency_p99_ms: [0] }));
    assert.equal(row?.verdict, "too few repeats");
  });

  test("a scenario of one name defined differently in A and B is not compared, and said so", () => {
    const a = syntheticRun({ time_to_last_delivery_ms: [100, 101, 99] });
    const b = syntheticRun({ time_to_last_delivery_ms: [300, 301, 299] });
    type Def = RunRecord["scenarios"][number];
    const def = (waiters: number, description = "x") =>
      ({ name: "fanout", description, type: "burst", waiters }) as unknown as Def;
    a.scenarios = [def(1000)];
    b.scenarios = [def(2000)];
    assert.deepEqual(compareRuns(a, b), []);
    assert.equal(differingScenarios(a, b).get("fanout"), "waiters 1000 in A, 2000 in B");
    b.scenarios = [def(1000, "reworded")];
    assert.equal(compareRuns(a, b).length, 1, "a description alone does not make it another scenario");
  });

  test("fewer than 3 repeats on a side: no verdict, said so; pairs on one side only are listed", () => {
    const a = syntheticRun({ time_to_last_delivery_ms: [100, 101] });
    const b = syntheticRun({ time_to_last_delivery_ms: [200, 201, 199] });
    const [row] = compareRuns(a, b);
    assert.equal(row?.verdict, "too few repeats");
    assert.equal(row?.ratio, 200 / 100.5);
    const other = { ...b, results: [...b.results, { ...b.results[0], scenario: "extra" }] } as typeof b;
    assert.deepEqual(unmatched(a, other), { onlyA: [], onlyB: ["extra @reference"] });
  });

  test("runs made with the driver under different scheduling policies are said to differ", () => {
    const old = syntheticRun({ time_to_last_delivery_ms: [100] }); // recorded before the policy: normal
    assert.equal(old.driver_sched, undefined);
    assert.deepEqual(conditionNotes(old, { ...old, driver_sched: "normal" }), []);
    const [note] = conditionNotes(old, { ...old, driver_sched: "batch" });
    assert.match(note ?? "", /A's driver ran as normal, B's as batch/);
    assert.match(conditionNotes({ ...old, driver_sched: null }, old)[0] ?? "", /on agents/);
  });
});
