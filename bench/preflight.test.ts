import assert from "node:assert/strict";
import { test } from "node:test";
import { HostLimitError } from "./errors.ts";
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

test("a scenario that fits passes without warnings", () => {
  assert.deepEqual(
    preflight({ scenario: scenario(10_000), workers: 1, spawnedTarget: true, limits: roomy }),
    [],
  );
});

test("too many sockets for the ports, the fd limit or one worker: exit 4 naming limit, need and fix", () => {
  try {
    preflight({ scenario: scenario(30_000), workers: 1, spawnedTarget: true, limits: roomy });
    assert.fail("expected HostLimitError");
  } catch (error) {
    assert.ok(error instanceof HostLimitError);
    assert.equal(error.exitCode, 4);
    assert.match(error.message, /ip_local_port_range/);
    assert.match(error.message, /ulimit -n/);
    assert.match(error.message, /--workers 2/);
  }
});

test("an attached target's fd limit is not ours to check", () => {
  assert.doesNotThrow(() =>
    preflight({ scenario: scenario(19_800), workers: 2, spawnedTarget: false, limits: roomy }),
  );
});

test("somaxconn below an all-at-once burst is a warning with the fix", () => {
  const warnings = preflight({
    scenario: scenario(5000, { type: "all-at-once" }),
    workers: 1,
    spawnedTarget: true,
    limits: roomy,
  });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? "", /somaxconn=5000/);
});
