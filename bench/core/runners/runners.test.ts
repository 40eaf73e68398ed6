// Each scenario type at a small size, with assertions on its correctness figures: against the
// reference server (nothing lost, one timeout each, back to 0 parked), and against fake targets with
// a known fault (a dropped notification is reported exactly; a leak is flagged).

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { type FakeTarget, listenFakeTarget } from "../../testing/fake-targets.ts";
import { metricOf, testContext } from "../../testing/run-context.ts";
import { burstScenario } from "../../testing/scenario-file.ts";
import { decodeHistogram } from "../metrics/histograms.ts";
import { failureOf, type ScenarioResult } from "../result.ts";
import { type RunContext, runScenario } from "../run.ts";
import { type BurstScenario, type Scenario, socketsNeeded } from "../scenario.ts";
import { attachTarget } from "../targets/attach.ts";
import { seedProfile } from "../targets/builtin-profiles.ts";
import { localTarget } from "../targets/local-targets.ts";
import { spawnReference } from "../targets/reference.ts";

const deadlines = { ready_ms: 20_000, collect_ms: 10_000 };

const context = (startTarget: RunContext["startTarget"], spawned = true) =>
  testContext(startTarget, { targetProcesses: () => (spawned ? 1 : undefined) });

const reference = context((s) => spawnReference({ waiters: socketsNeeded(s) }));
const metric = metricOf;
const ok = (r: ScenarioResult) => assert.equal(failureOf(r), undefined, failureOf(r)?.message);

const stream = (over: Partial<Extract<Scenario, { type: "stream" }>> = {}): Scenario => ({
  name: "stream-small",
  description: "t",
  type: "stream",
  waiters: 100,
  keys: 10,
  arrival: { type: "uniform", window_ms: 200 },
  rate_per_s: 100,
  duration_s: 1,
  wait_timeout_s: 30,
  deadlines,
  ...over,
});

describe("stream", () => {
  const fakes: FakeTarget[] = [];
  after(() => {
    for (const f of fakes) f.server.close();
  });

  test("against the reference: every message to every waiter, once, in order (cursor mode)", async () => {
    const r = await runScenario(stream(), reference);
    ok(r);
    assert.equal(r.flags.streamMode, "cursor");
    // All counts at once, so that a failure shows the whole picture (a gap with out-of-order
    // messages is sets of one key that reached the server out of their order).
    const counts = ["expected", "delivered", "lost", "duplicates", "out_of_order", "errors"];
    assert.deepEqual(
      Object.fromEntries(counts.map((m) => [m, metric(r, m)])),
      { expected: 1000, delivered: 1000, lost: 0, duplicates: 0, out_of_order: 0, errors: 0 },
      r.warnings.join("; "),
    );
    assert.equal(decodeHistogram(r.histograms.latency ?? "").totalCount, 1000);
  });

  test("against a target without a cursor: a fresh key per message, nothing lost", async () => {
    const nodeHttp = localTarget("node-http");
    assert.ok(nodeHttp);
    const r = await runScenario(
      stream({ waiters: 50, keys: 5 }),
      context(() => nodeHttp.start({ waiters: 50, referenceArgs: [] })),
    );
    ok(r);
    assert.equal(r.flags.streamMode, "fresh-key");
    assert.equal(metric(r, "stream_cursor"), 0);
    // 100 sets over 5 keys: 20 messages per key, to each of its 10 waiters.
    assert.deepEqual(
      ["expected", "delivered", "lost", "duplicates", "out_of_order"].map((m) => metric(r, m)),
      [1000, 1000, 0, 0, 0],
    );
  });

  test("a profile whose read answer fails value_if: the stream says why it cannot use the cursor", async () => {
    const fake = await listenFakeTarget();
    fakes.push(fake);
    // The server marks a read and a change differently; this profile's value_if does not know it.
    const profile = {
      ...seedProfile,
      answer: { ...seedProfile.answer, value_if: { match: { "/kind": "change" } } },
    };
    const r = await runScenario(
      stream({ waiters: 20, keys: 2, rate_per_s: 20, duration_s: 1 }),
      context(() => attachTarget(fake.url, profile), false),
    );
    // (Its waits' answers fail the same value_if, so the run itself fails after: the reason is kept.)
    assert.match(
      r.warnings.join("\n"),
      /no cursor re-poll \(the profile's read_now answer \(HTTP 200, .*\) was not a value to the profile .*check answer\.value and value_if; a wait's answer was not a value to the profile \(\w+\)\): a fresh key per message instead/,
    );
  });

  test("a target that drops every tenth notification: the loss is reported exactly", async () => {
    const fake = await listenFakeTarget({ dropEvery: 10 });
    fakes.push(fake);
    const r = await runScenario(
      // A waiter whose key's last message was dropped never finishes: a short collect deadline.
      stream({
        waiters: 20,
        keys: 2,
        rate_per_s: 20,
        duration_s: 2,
        deadlines: { ready_ms: 20_000, collect_ms: 2_000 },
      }),
      context(() => attachTarget(fake.url, seedProfile), false),
    );
    assert.equal(r.flags.streamMode, "cursor");
    assert.ok(fake.dropped > 0, "the fake dropped some");
    assert.equal(metric(r, "lost"), fake.dropped);
    assert.equal(metric(r, "delivered"), 20 * 20 - fake.dropped);
    assert.equal(metric(r, "duplicates"), 0);
  });
});

describe("timeout-storm", () => {
  test("every waiter gets exactly one timeout answer, none early", async () => {
    const r = await runScenario(
      {
        name: "storm-small",
        description: "t",
        type: "timeout-storm",
        waiters: 200,
        keys: 1,
        arrival: { type: "uniform", window_ms: 100 },
        timeout_s: 1,
        deadlines,
      },
      reference,
    );
    ok(r);
    assert.deepEqual(
      ["timeouts", "missing_timeouts", "extra_timeouts", "early_timeouts", "errors"].map((m) => metric(r, m)),
      [200, 0, 0, 0, 0],
    );
    // Every waiter's lateness is recorded (answers later than the collect deadline would be missing).
    assert.equal(decodeHistogram(r.histograms.lateness ?? "").totalCount, 200);
  });
});

describe("churn", () => {
  const churn = (over = {}): Scenario => ({
    name: "churn-small",
    description: "t",
    type: "churn",
    waiters: 100,
    keys: 2,
    arrival: { type: "uniform", window_ms: 100 },
    churn_per_s: 100,
    duration_s: 1,
    heap_tolerance_bytes: 4 * 1024 * 1024,
    wait_timeout_s: 60,
    deadlines,
    ...over,
  });

  test("against the reference: back to 0 parked, no leak", async () => {
    const r = await runScenario(churn(), reference);
    ok(r);
    assert.ok((metric(r, "churned") as number) >= 95, `churned ${metric(r, "churned")}`);
    assert.equal(metric(r, "parked_after_drain"), 0);
    assert.equal(metric(r, "leak"), 0);
    assert.equal(typeof metric(r, "heap_growth_bytes"), "number");
  });

  test("a target that keeps aborted waiters is reported as leaking", async () => {
    const fake = await listenFakeTarget({ leakAborted: true });
    try {
      const r = await runScenario(
        churn(),
        context(() => attachTarget(fake.url, seedProfile), false),
      );
      ok(r);
      assert.equal(metric(r, "leak"), 1);
      assert.ok(
        (metric(r, "parked_after_drain") as number) >= 100,
        `parked after drain ${metric(r, "parked_after_drain")}`,
      );
      assert.ok(r.warnings.some((w) => w.includes("LEAK")));
    } finally {
      fake.server.close();
    }
  });
});

describe("set-throughput", () => {
  test("autocannon's responses land in the harness's own histograms", async () => {
    const r = await runScenario(
      {
        name: "tp-small",
        description: "t",
        type: "set-throughput",
        connections: 4,
        duration_s: 1,
        value_bytes: 16,
        get: true,
      },
      reference,
    );
    ok(r);
    assert.ok((metric(r, "set_rps") as number) > 100);
    assert.ok((metric(r, "get_rps") as number) > 100);
    assert.equal(metric(r, "non_2xx"), 0);
    assert.equal(metric(r, "request_errors"), 0);
    const sets = decodeHistogram(r.histograms.request ?? "").totalCount;
    assert.ok(Math.abs(sets - (metric(r, "set_requests") as number)) <= 4 * 2, `${sets} recorded`);
  });
});

describe("memory-sweep", () => {
  test("a row per step and a positive slope", async () => {
    const r = await runScenario(
      {
        name: "sweep-small",
        description: "t",
        type: "memory-sweep",
        steps: [200, 400, 800],
        keys: 1,
        step_window_ms: 200,
        wait_timeout_s: 60,
        deadlines,
      },
      reference,
    );
    ok(r);
    assert.deepEqual(
      r.table?.map((row) => row.waiters),
      [0, 200, 400, 800],
    );
    assert.ok((metric(r, "memory_slope_heap_bytes_per_waiter") as number) > 0);
    assert.equal(metric(r, "parked_after_drain"), 0);
  });
});

/** 60 waiters over 2 keys, two sets: a burst small enough for a fake target. */
const small = (name: string, over: Partial<BurstScenario> = {}) =>
  burstScenario({
    name,
    waiters: 60,
    keys: 2,
    arrival: { type: "uniform", window_ms: 100 },
    sets: { count: 2, window_ms: 0 },
    wait_timeout_s: 30,
    ...over,
  });

describe("a target that delivers nothing", () => {
  test("accepts every /set but wakes no one: a target failure (exit 3), not a fast server; figures kept", async (t) => {
    const fake = await listenFakeTarget({ dropEvery: 1 });
    t.after(() => fake.server.close());
    const r = await runScenario(
      small("never-wakes", { deadlines: { ready_ms: 10_000, collect_ms: 1_000 } }),
      context(() => attachTarget(fake.url, seedProfile), false),
    );
    assert.equal(failureOf(r)?.exitCode, 3);
    assert.match(failureOf(r)?.message ?? "", /no waiter got its value \(60 expected\).*npm run probe/);
    assert.equal(metric(r, "missing"), 60);
    assert.equal(metric(r, "latency_p50_ms"), undefined, "no sample: no latency figure, never 0");
  });
});

describe("a stats page that cannot be true", () => {
  test("1e9 parked for 60 waiters: flagged, the barrier falls back to approximate, no parked_after_drain figure", async (t) => {
    const fake = await listenFakeTarget({ statsWaiters: 1e9 });
    t.after(() => fake.server.close());
    const r = await runScenario(
      small("lying-stats"),
      context(() => attachTarget(fake.url, seedProfile), false),
    );
    ok(r);
    assert.equal(metric(r, "delivered"), 60);
    assert.equal(r.flags.barrierApproximate, true);
    assert.equal(metric(r, "parked_at_ready"), undefined);
    assert.equal(metric(r, "parked_after_drain"), undefined);
    assert.ok(
      r.warnings.some((w) => /stats say 1000000000 parked, more than the 60 waiters this run opened/.test(w)),
      r.warnings.join("\n"),
    );
    assert.ok(r.warnings.some((w) => /after the drain, more than the 60 waiters this run opened/.test(w)));
  });
});
