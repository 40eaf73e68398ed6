// The regression gate end to end at a small size: a baseline made from a real run, the gate passing
// against it, and failing when the reference server runs with its fault injection (a slower wake
// path). Plus the thresholds file's validation: an unknown metric is an error, never a silent pass.

import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { UsageError } from "./errors.ts";
import { evaluateGate, loadThresholds, pacedNote, poolRuns, type Thresholds } from "./gate.ts";
import type { RunRecord } from "./output/results-folder.ts";
import { runCli } from "./testing/run-cli.ts";
import { scenarioFile } from "./testing/scenario-file.ts";

const BENCH = new URL("./cli/bench.ts", import.meta.url).pathname;
const GATE = new URL("./cli/gate.ts", import.meta.url).pathname;
const BASELINE = new URL("./cli/baseline.ts", import.meta.url).pathname;

const run = (script: string, args: string[]) => runCli(script, args);

const THRESHOLDS = {
  suite: "ci",
  repeat: 3,
  reference_target: "reference",
  calibration_target: "node-http",
  metrics: {
    time_to_last_delivery_ms: { max_ratio: 2 },
    server_cpu_per_notification_us: { max_ratio: 2 },
    missing: { max_increase: 0 },
    errors: { max_increase: 0 },
  },
};

describe("thresholds file", () => {
  const dir = mkdtempSync(join(tmpdir(), "lpb-thresholds-"));
  const write = (body: unknown) => {
    const file = join(dir, `t${Math.random()}.json`);
    writeFileSync(file, JSON.stringify(body));
    return file;
  };

  test("the committed thresholds file is valid", () => {
    const t = loadThresholds(new URL("../results/baseline/thresholds.json", import.meta.url).pathname);
    assert.equal(t.calibration_target, "node-http");
  });

  test("an unknown metric, a ratio on a correctness count, a missing limit: all reported at once", () => {
    const file = write({
      ...THRESHOLDS,
      metrics: { latency_p99: { max_ratio: 1.2 }, missing: { max_ratio: 1.2 }, latency_p50_ms: {} },
    });
    assert.throws(
      () => loadThresholds(file),
      (e: unknown) =>
        e instanceof UsageError &&
        e.exitCode === 2 &&
        /metrics\.latency_p99: unknown metric/.test(e.message) &&
        /metrics\.missing: a correctness metric needs "max_increase"/.test(e.message) &&
        /metrics\.latency_p50_ms: needs "max_ratio"/.test(e.message),
    );
  });

  test("the gate CLI exits 2 on a bad thresholds file", async () => {
    const baseline = join(dir, "bad-baseline");
    mkdirSync(baseline);
    writeFileSync(
      join(baseline, "thresholds.json"),
      JSON.stringify({ ...THRESHOLDS, metrics: { nonsense: { max_ratio: 2 } } }),
    );
    const r = await run(GATE, ["--baseline", baseline]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /unknown metric/);
  });
});

describe("gate verdicts", () => {
  const thresholds = THRESHOLDS as unknown as Thresholds;
  const record = (pairs: [number, number][], missing = 0): RunRecord =>
    ({
      results: pairs.flatMap(([ref, cal], repeat) => [
        {
          scenario: "s",
          target: "reference",
          repeat,
          complete: true,
          metrics: { time_to_last_delivery_ms: ref, missing },
        },
        {
          scenario: "s",
          target: "node-http",
          repeat,
          complete: true,
          metrics: { time_to_last_delivery_ms: cal, missing: 0 },
        },
      ]),
    }) as unknown as RunRecord;

  test("timing is judged relative to the calibration server of the same repeat", () => {
    const base = record([
      [10, 10],
      [11, 10],
      [10, 11],
    ]);
    // Twice as slow, but so is the calibration server: a slower machine, not a regression.
    const slowMachine = record([
      [20, 20],
      [22, 20],
      [20, 22],
    ]);
    assert.equal(evaluateGate(base, slowMachine, thresholds)[0]?.verdict, "pass");
    const slowServer = record([
      [30, 10],
      [33, 10],
      [30, 11],
    ]);
    assert.equal(evaluateGate(base, slowServer, thresholds)[0]?.verdict, "REGRESSION");
  });

  // Reference and calibration per repeat: [time to last, server CPU per notification, fan-out driver-bound?].
  type Side = [number, number, boolean];
  const pacedRecord = (pairs: [Side, Side][]): RunRecord =>
    ({
      results: pairs.flatMap((sides, repeat) =>
        sides.map(([ttl, cpu, bound], i) => ({
          scenario: "s",
          target: i === 0 ? "reference" : "node-http",
          repeat,
          complete: true,
          metrics: { time_to_last_delivery_ms: ttl, server_cpu_per_notification_us: cpu },
          flags: {
            driverBound: bound,
            driverBoundPhases: bound ? ["fanout"] : [],
            barrierApproximate: false,
          },
        })),
      ),
    }) as unknown as RunRecord;
  const verdicts = (base: RunRecord, now: RunRecord) =>
    Object.fromEntries(evaluateGate(base, now, thresholds).map((r) => [r.metric, r.verdict]));
  const repeats = (ref: Side, cal: Side, n = 3): [Side, Side][] =>
    Array.from({ length: n }, () => [ref, cal]);
  const base = pacedRecord(repeats([10, 10, false], [10, 10, false]));

  test("a timing the driver paced for the reference but not for the calibration is not judged", () => {
    // Three times slower delivery, server CPU unchanged, the driver busy throughout for the reference
    // only: the ratio is the driver's pace over the calibration server's.
    const driverPaced = pacedRecord(repeats([30, 10, true], [10, 10, false]));
    assert.deepEqual(verdicts(base, driverPaced), {
      time_to_last_delivery_ms: "driver-paced",
      server_cpu_per_notification_us: "pass",
    });
    const note = pacedNote(evaluateGate(base, driverPaced, thresholds), thresholds);
    assert.match(note, /^driver-paced, not judged: s \(fanout in 3 of 3 repeats\)\./);
    assert.equal(pacedNote(evaluateGate(base, base, thresholds), thresholds), "");
    // The server's own CPU is still judged in a driver-paced scenario.
    const costlier = pacedRecord(repeats([30, 30, true], [10, 10, false]));
    assert.equal(verdicts(base, costlier).server_cpu_per_notification_us, "REGRESSION");
  });

  test("fan-out paced on both sides: still the driver's pace, not judged; paced in a minority of repeats: judged", () => {
    const bothPaced = pacedRecord(repeats([30, 10, true], [10, 10, true]));
    assert.equal(verdicts(base, bothPaced).time_to_last_delivery_ms, "driver-paced");
    const once = pacedRecord([
      [
        [30, 10, true],
        [10, 10, false],
      ],
      ...repeats([30, 10, false], [10, 10, false], 2),
    ]);
    assert.equal(verdicts(base, once).time_to_last_delivery_ms, "REGRESSION");
  });

  test("one lost message fails, whatever the timing", () => {
    const base = record([
      [10, 10],
      [10, 10],
    ]);
    const rows = evaluateGate(base, record([[10, 10]], 1), thresholds);
    assert.equal(rows.find((r) => r.metric === "missing")?.verdict, "REGRESSION");
  });

  test("pooling numbers the second run's repeats after the first's", () => {
    const pooled = poolRuns(record([[1, 1]]), record([[2, 2]]));
    assert.deepEqual(
      pooled.results.map((r) => [r.target, r.repeat]),
      [
        ["reference", 0],
        ["node-http", 0],
        ["reference", 1],
        ["node-http", 1],
      ],
    );
  });
});

describe("baseline:update", () => {
  // Two complete gate runs, each with both targets; one repeat apiece.
  const fakeRun = (runId: string, ttl: number) => ({
    tool: "longpoll-bench",
    run_id: runId,
    complete: true,
    suite: "ci",
    repeat: 1,
    targets: ["reference", "node-http"],
    results: ["reference", "node-http"].map((target) => ({
      scenario: "s",
      target,
      repeat: 0,
      complete: true,
      metrics: { time_to_last_delivery_ms: ttl },
      flags: { driverBound: false, driverBoundPhases: [], barrierApproximate: false },
    })),
  });
  const setUp = () => {
    const dir = mkdtempSync(join(tmpdir(), "lpb-baseline-"));
    const baseline = join(dir, "baseline");
    mkdirSync(baseline);
    writeFileSync(join(baseline, "thresholds.json"), JSON.stringify(THRESHOLDS));
    writeFileSync(join(baseline, "summary.csv"), "from an earlier single-run baseline\n");
    const runs = ["a", "b"].map((id, i) => {
      const runDir = join(dir, id);
      mkdirSync(runDir);
      writeFileSync(join(runDir, "run.json"), JSON.stringify(fakeRun(id, 10 + i)));
      return runDir;
    });
    return { baseline, runs };
  };

  test("several runs are pooled into one baseline, repeats numbered on, sources named", async () => {
    const { baseline, runs } = setUp();
    const out = await run(BASELINE, [...runs, "--baseline", baseline]);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /2 runs pooled \(2 repeats per scenario and target\)/);
    const pooled = JSON.parse(readFileSync(join(baseline, "run.json"), "utf8")) as RunRecord;
    assert.deepEqual(pooled.pooled_from, ["a", "b"]);
    assert.equal(pooled.repeat, 2);
    assert.deepEqual(
      pooled.results.map((r) => [r.target, r.repeat, r.metrics.time_to_last_delivery_ms]),
      [
        ["reference", 0, 10],
        ["node-http", 0, 10],
        ["reference", 1, 11],
        ["node-http", 1, 11],
      ],
    );
    // The old baseline's per-run CSV would not match the pooled run.json.
    assert.equal(existsSync(join(baseline, "summary.csv")), false);
  });

  test("folders and --last together, a bad --last, or the baseline itself: usage errors (exit 2)", async () => {
    const { baseline, runs } = setUp();
    const both = await run(BASELINE, [...runs, "--last", "2", "--baseline", baseline]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /not both/);
    const itself = await run(BASELINE, [baseline, "--baseline", baseline]);
    assert.equal(itself.code, 2);
    assert.match(itself.stderr, /is the baseline folder itself/);
    const bad = await run(BASELINE, ["--last", "0", "--baseline", baseline]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--last must be a whole number/);
    // Runs made with the driver under different policies do not pool (a run without the field ran as normal).
    const [a, b] = runs as [string, string];
    writeFileSync(join(b, "run.json"), JSON.stringify({ ...fakeRun("b", 11), driver_sched: "batch" }));
    const mixed = await run(BASELINE, [a, b, "--baseline", baseline]);
    assert.equal(mixed.code, 2);
    assert.match(mixed.stderr, /different scheduling policies .*: normal, .*: batch\); pool runs made alike/);
  });
});

describe("gate end to end", () => {
  test("passes against a baseline of the same code; fails with the fault injection on", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lpb-gate-"));
    const scenario = scenarioFile(dir, "gate-small", { waiters: 300 });
    const baseline = join(dir, "baseline");
    mkdirSync(baseline);
    writeFileSync(join(baseline, "thresholds.json"), JSON.stringify(THRESHOLDS));

    const made = await run(BENCH, [
      scenario,
      "--targets",
      "reference,node-http",
      "--repeat",
      "3",
      "--quiet",
      "--out",
      join(dir, "base-run"),
    ]);
    assert.equal(made.code, 0, made.stderr);
    const promoted = await run(BASELINE, [join(dir, "base-run"), "--baseline", baseline]);
    assert.equal(promoted.code, 0, promoted.stderr);
    assert.ok(existsSync(join(baseline, "run.json")));

    const pass = await run(GATE, [scenario, "--baseline", baseline, "--quiet", "--out", join(dir, "pass")]);
    assert.equal(pass.code, 0, `${pass.stdout}\n${pass.stderr}`);
    assert.match(pass.stdout, /gate passed/);
    // Like with like: the baseline was made with the driver as batch (bench's default), and so is the gate's run.
    const policyOf = (d: string) =>
      (JSON.parse(readFileSync(join(d, "run.json"), "utf8")) as RunRecord).driver_sched;
    assert.equal(policyOf(baseline), "batch");
    assert.equal(policyOf(join(dir, "pass")), "batch");
    const bench = JSON.parse(readFileSync(join(dir, "pass", "benchmark.json"), "utf8")) as {
      name: string;
      unit: string;
      value: number;
    }[];
    assert.ok(
      bench.some((b) => b.name === "gate-small time_to_last_delivery_ms" && b.unit === "ms" && b.value > 0),
    );

    // 300 waiters × 300 µs: about 90 ms more per fan-out, several times the ~15 ms it takes.
    const fault = await run(GATE, [
      scenario,
      "--baseline",
      baseline,
      "--quiet",
      "--out",
      join(dir, "fault"),
      "--reference-args=--fault-wake-cost-us 300",
    ]);
    assert.equal(fault.code, 1, `${fault.stdout}\n${fault.stderr}`);
    assert.match(fault.stdout, /re-running to confirm/);
    assert.match(fault.stdout, /GATE FAILED: .*gate-small time_to_last_delivery_ms/);
    assert.ok(existsSync(join(dir, "fault", "confirm", "run.json")), "the confirmation run is kept");
  });
});

describe("your own server as the gate's judged target", () => {
  test("thresholds.json names a target file: it is started, run beside the calibration and judged by its name", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lpb-gate-own-"));
    const baseline = join(dir, "baseline");
    mkdirSync(baseline);
    const target = new URL("../examples/batch-server/target.json", import.meta.url).pathname;
    writeFileSync(
      join(baseline, "thresholds.json"),
      JSON.stringify({ ...THRESHOLDS, repeat: 1, reference_target: target }),
    );
    // A baseline with no results yet: every row says so, and the gate passes.
    writeFileSync(join(baseline, "run.json"), JSON.stringify({ results: [] }));
    const out = join(dir, "run");
    const r = await run(GATE, [
      scenarioFile(dir, "own-small", { waiters: 60 }),
      "--baseline",
      baseline,
      "--out",
      out,
      "--quiet",
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^own-small @batch-server\s+60\b/m);
    assert.match(r.stdout, /^own-small @node-http\s+60\b/m);
    assert.match(r.stdout, /no baseline yet for: own-small/);
    assert.ok(existsSync(join(out, "gate.csv")));
  });
});
