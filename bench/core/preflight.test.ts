import assert from "node:assert/strict";
import { test } from "node:test";
import { HostLimitError } from "../errors.ts";
import { preflight } from "./preflight.ts";
import type { BurstScenario } from "./scenario.ts";

const scenario = (
  waiters: number,
  arrival: BurstScenario["arrival"] = { type: "uniform", window_ms: 1000 },
): BurstScenario => ({
  name: "big",
  description: "d",
  type: "burst",
  waiters,
  keys: 1,
  arrival,
  sets: { count: 1, window_ms: 0 },
  wait_timeout_s: 60,
  deadlines: { ready_ms: 1000, collect_ms: 1000 },
});

const roomy = { openFiles: 20_000, ephemeralPorts: 28_232, somaxconn: 4096 };
const LOOPBACK = "127.0.0.1";

test("a scenario that fits passes without warnings or notes", () => {
  assert.deepEqual(
    preflight({
      scenario: scenario(10_000),
      workers: 1,
      targetProcesses: 1,
      targetHost: LOOPBACK,
      limits: roomy,
    }),
    { warnings: [], notes: [] },
  );
});

test("too many sockets for the ports, the fd limit or one worker: exit 4 naming limit, need and fix", () => {
  try {
    preflight({
      scenario: scenario(30_000),
      workers: 1,
      targetProcesses: 1,
      targetHost: LOOPBACK,
      limits: roomy,
    });
    assert.fail("expected HostLimitError");
  } catch (error) {
    assert.ok(error instanceof HostLimitError);
    assert.equal(error.exitCode, 4);
    assert.match(error.message, /ulimit -n/);
    assert.match(error.message, /--workers 2/);
    assert.match(
      error.message,
      /reference-cluster/,
      "a one-process target over the fd limit: the fix names a cluster target",
    );
  }
});

test("an attached target's fd limit is not ours to check", () => {
  assert.doesNotThrow(() =>
    preflight({
      scenario: scenario(19_800),
      workers: 2,
      targetProcesses: undefined,
      targetHost: LOOPBACK,
      limits: roomy,
    }),
  );
});

test("somaxconn below an all-at-once burst is a warning with the fix", () => {
  const warnings = preflight({
    scenario: scenario(5000, { type: "all-at-once" }),
    workers: 1,
    targetProcesses: 1,
    targetHost: LOOPBACK,
    limits: roomy,
  }).warnings;
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? "", /somaxconn=5000/);
});

test("100,000 waiters: enough driver processes, source addresses and target processes, said as a note", () => {
  const report = preflight({
    scenario: scenario(100_000),
    workers: 7,
    targetProcesses: 8,
    targetHost: LOOPBACK,
    limits: roomy,
  });
  assert.deepEqual(report.warnings, []);
  assert.equal(report.notes.length, 1);
  // 28,232 ports × 0.85 = 23,997 per address: 5 addresses for 100,500 sockets.
  assert.match(
    report.notes[0] ?? "",
    /7 driver processes, source addresses 127\.0\.0\.2-127\.0\.0\.6 \(5, up to 23997 each\), 8 target processes/,
  );
});

test("beyond one source address's ports towards a non-loopback target: exit 4 with the fix", () => {
  assert.throws(
    () =>
      preflight({
        scenario: scenario(30_000),
        workers: 2,
        targetProcesses: undefined,
        targetHost: "10.1.2.3",
        limits: roomy,
      }),
    (e: unknown) =>
      e instanceof HostLimitError &&
      /more than one source address/.test(e.message) &&
      /ip_local_port_range/.test(e.message),
  );
});

test("the target's processes share its sockets: 100,000 on one process is refused, on 8 it fits", () => {
  assert.throws(
    () =>
      preflight({
        scenario: scenario(100_000),
        workers: 7,
        targetProcesses: 1,
        targetHost: LOOPBACK,
        limits: roomy,
      }),
    /each of the target's 1 process\(es\) needs ~110500/,
  );
  assert.doesNotThrow(() =>
    preflight({
      scenario: scenario(100_000),
      workers: 7,
      targetProcesses: 8,
      targetHost: LOOPBACK,
      limits: roomy,
    }),
  );
});
