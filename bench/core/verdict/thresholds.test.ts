import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  defaultThresholds,
  judgeThresholds,
  parseThresholdFlag,
  parseThresholdRecord,
  thresholdsFor,
} from "./thresholds.ts";

const fanout = { name: "fanout-1k", type: "burst" };

describe("thresholds: parsing", () => {
  test("flags: every scenario, one scenario, one scenario and target, and off", () => {
    assert.deepEqual(parseThresholdFlag("latency_p99_ms<500"), {
      metric: "latency_p99_ms",
      condition: { op: "<", limit: 500 },
      source: "flag",
    });
    assert.deepEqual(parseThresholdFlag("fanout-10k:latency_p99_ms <= 2.5"), {
      metric: "latency_p99_ms",
      condition: { op: "<=", limit: 2.5 },
      source: "flag",
      scenario: "fanout-10k",
    });
    assert.deepEqual(parseThresholdFlag("fanout-10k@nchan:delivered>=10000"), {
      metric: "delivered",
      condition: { op: ">=", limit: 10_000 },
      source: "flag",
      scenario: "fanout-10k",
      target: "nchan",
    });
    assert.deepEqual(parseThresholdFlag("duplicates:off"), {
      metric: "duplicates",
      condition: undefined,
      source: "flag",
    });
    assert.deepEqual(parseThresholdFlag("stream:lost:off"), {
      metric: "lost",
      condition: undefined,
      source: "flag",
      scenario: "stream",
    });
  });

  test("a mistyped metric or condition is refused with what to write", () => {
    assert.throws(
      () => parseThresholdFlag("latncy_p99_ms<5"),
      /no such metric \(did you mean latency_p99_ms/,
    );
    assert.throws(() => parseThresholdFlag("latency_p99_ms=5"), /not a condition; write <N, <=N/);
    assert.throws(() => parseThresholdFlag("fanout:"), /write \[SCENARIO\]\[@TARGET\]:METRIC<LIMIT/);
    const { thresholds, problems } = parseThresholdRecord(
      { latency_p99_ms: "<500", lots: "==0", duplicates: "zero" },
      "scenario",
      "f.json: thresholds",
    );
    assert.equal(thresholds.length, 1);
    assert.equal(problems.length, 2, "every problem at once");
    assert.match(problems.join("\n"), /f\.json: thresholds: threshold on "lots": no such metric/);
  });
});

describe("thresholds: which apply", () => {
  test("correctness is 0 by default, but what a type expects above 0", () => {
    const burst = defaultThresholds("burst").map((t) => t.metric);
    for (const m of ["missing", "duplicates", "errors", "timeouts", "set_errors", "parked_after_drain"])
      assert.ok(burst.includes(m as never), m);
    assert.ok(burst.includes("lost" as never) && burst.includes("out_of_order" as never));
    const storm = defaultThresholds("timeout-storm").map((t) => t.metric);
    assert.ok(!storm.includes("timeouts" as never), "a timeout storm's timeouts are its point");
    assert.ok(storm.includes("missing_timeouts" as never));
    assert.ok(!defaultThresholds("churn").some((t) => t.metric === "parked_after_drain"));
  });

  test("scenario file, target file and flags override in that order; off lifts one", () => {
    const scenario = { ...fanout, thresholds: { latency_p99_ms: "<500", duplicates: "<=3" } };
    const target = [
      {
        metric: "latency_p99_ms" as const,
        condition: { op: "<" as const, limit: 400 },
        source: "target" as const,
      },
    ];
    const flags = [
      parseThresholdFlag("fanout-1k@other:latency_p99_ms<1"), // another target: not this one
      parseThresholdFlag("errors:off"),
      parseThresholdFlag("fanout-1k:latency_p99_ms<300"),
    ];
    const got = thresholdsFor(scenario, "reference", target, flags);
    const by = new Map(got.map((t) => [t.metric, t]));
    assert.equal(by.get("latency_p99_ms")?.condition?.limit, 300);
    assert.equal(by.get("latency_p99_ms")?.source, "flag");
    assert.equal(by.get("duplicates")?.condition?.limit, 3);
    assert.equal(by.has("errors"), false, "lifted");
    assert.equal(by.get("missing")?.source, "default");
  });
});

describe("thresholds: judging", () => {
  const run = (target: string, metrics: Record<string, number>) => ({ scenario: fanout, target, metrics });

  test("a figure on the median over repeats with its range; correctness on the worst repeat", () => {
    const verdicts = judgeThresholds(
      [
        run("reference", { latency_p99_ms: 100, duplicates: 0 }),
        run("reference", { latency_p99_ms: 900, duplicates: 1000 }),
        run("reference", { latency_p99_ms: 200, duplicates: 0 }),
      ],
      () => [],
      [parseThresholdFlag("latency_p99_ms<500")],
    );
    const p99 = verdicts.find((v) => v.metric === "latency_p99_ms");
    assert.deepEqual(
      p99 && { value: p99.value, min: p99.min, max: p99.max, repeats: p99.repeats, pass: p99.pass },
      { value: 200, min: 100, max: 900, repeats: 3, pass: true },
    );
    const dup = verdicts.find((v) => v.metric === "duplicates");
    assert.equal(dup?.value, 1000, "one repeat that duplicated everything fails the run");
    assert.equal(dup?.pass, false);
  });

  test("a written threshold on a figure no repeat measured fails; a default one is not judged", () => {
    const verdicts = judgeThresholds([run("nchan", { missing: 0 })], () => [], [
      parseThresholdFlag("latency_p99_ms<500"),
    ]);
    const p99 = verdicts.find((v) => v.metric === "latency_p99_ms");
    assert.deepEqual(p99 && [p99.value, p99.pass], [undefined, false]);
    assert.equal(
      verdicts.some((v) => v.metric === "parked_after_drain"),
      false,
    );
    assert.equal(verdicts.find((v) => v.metric === "missing")?.pass, true);
  });

  test("each target is judged on its own, with its own target-file thresholds", () => {
    const verdicts = judgeThresholds(
      [run("a", { latency_p99_ms: 50 }), run("b", { latency_p99_ms: 50 })],
      (t) =>
        t === "b" ? [{ metric: "latency_p99_ms", condition: { op: "<", limit: 10 }, source: "target" }] : [],
      [],
    );
    const of = (t: string) => verdicts.find((v) => v.target === t && v.metric === "latency_p99_ms");
    assert.equal(of("a"), undefined);
    assert.equal(of("b")?.pass, false);
  });
});
