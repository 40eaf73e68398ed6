// The scale-out pieces of the harness at a small size: the reference-cluster target end to end (its
// readiness barrier exact across processes, nothing lost, Redis counted in its resources and stopped
// with it), and the driver's source addresses (forced here by a pretend-small port range: every
// socket gets its own address and port, spread over 127.0.0.2+).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, describe, test } from "node:test";
import { type FakeTarget, listenFakeTarget } from "../../testing/fake-targets.ts";
import { metricOf, testContext } from "../../testing/run-context.ts";
import { burstScenario } from "../../testing/scenario-file.ts";
import { processTree, readProcessTree } from "../metrics/proc.ts";
import { readHostLimits } from "../preflight.ts";
import { failureOf } from "../result.ts";
import { runScenario } from "../run.ts";
import { attachTarget } from "./attach.ts";
import { seedProfile } from "./builtin-profiles.ts";
import { balanceFor, localTarget } from "./local-targets.ts";
import { redisMissing } from "./redis-server.ts";

const commandOf = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return "";
  }
};

describe("scale-out", () => {
  test("reference-cluster: waiters on several processes over Redis, nothing lost, Redis counted and stopped", {
    skip: redisMissing() ?? false,
  }, async () => {
    const local = localTarget("reference-cluster");
    assert.ok(local);
    assert.equal(local.missing(), undefined, "redis-server is installed (scripts/install-peers.sh)");
    assert.equal(local.processes?.(100_000), 8, "one process per 12,500 waiters");
    assert.equal(local.processes?.(600), 2, "at least two");
    assert.equal(balanceFor(100_000), "kernel", "many connections: the kernel deals them (no primary cost)");

    const target = await local.start({ waiters: 600, referenceArgs: [] });
    let stopped = false;
    after(async () => {
      if (!stopped) await target.stop();
    });
    const pid = target.pid as number;
    assert.match(commandOf(pid), /--balance\0round-robin/, "600 connections: dealt in turn by the primary");
    const tree = processTree(pid);
    assert.ok(tree.length >= 3, `the primary and its 2 workers: ${tree.length} processes`);
    const own = readProcessTree(pid)?.rssBytes ?? 0;
    const counted = target.procSample()?.rssBytes ?? 0;
    assert.ok(counted > own + 1_000_000, `Redis's RSS is in the target's (${counted} vs ${own} without it)`);
    const redisPids = processTree(process.pid).filter((p) => commandOf(p).includes("redis-server"));
    assert.equal(redisPids.length, 1, "one redis-server, started by the harness");

    const r = await runScenario(
      burstScenario({ name: "cluster-small", waiters: 600, keys: 3, sets: { count: 3, window_ms: 0 } }),
      testContext(async () => target, { targetProcesses: () => 2 }),
    );
    stopped = true; // runScenario stops the target it started
    assert.equal(failureOf(r), undefined, failureOf(r)?.message);
    assert.equal(metricOf(r, "delivered"), 600);
    assert.equal(metricOf(r, "missing"), 0);
    assert.ok(
      processTree(process.pid).every((p) => !redisPids.includes(p)),
      "its redis-server stopped with it",
    );
  });

  describe("source addresses", () => {
    let fake: FakeTarget;
    after(() => fake?.server.close());

    test("beyond one address's ports, each socket has its own source address and port", async () => {
      fake = await listenFakeTarget();
      const seen = new Set<string>();
      fake.server.on("connection", (s) => seen.add(`${s.remoteAddress}:${s.remotePort}`));
      // 500 ephemeral ports pretended: 425 per address, so 600 waiters need two (127.0.0.2, 127.0.0.3).
      const r = await runScenario(
        burstScenario({ name: "sources", waiters: 600, keys: 2, sets: { count: 2, window_ms: 0 } }),
        testContext(() => attachTarget(fake.url, seedProfile), {
          targetProcesses: () => undefined,
          hostLimits: { ...readHostLimits(), ephemeralPorts: 500 },
        }),
      );
      assert.equal(failureOf(r), undefined, failureOf(r)?.message);
      assert.equal(metricOf(r, "delivered"), 600);
      const waiters = [...seen].filter((a) => !a.startsWith("127.0.0.1:"));
      assert.equal(waiters.length, 600, "every waiter's socket came from 127.0.0.2+");
      const addresses = new Set(waiters.map((a) => a.slice(0, a.lastIndexOf(":"))));
      assert.deepEqual([...addresses].sort(), ["127.0.0.2", "127.0.0.3"]);
      const ports = waiters.map((a) => Number(a.slice(a.lastIndexOf(":") + 1)));
      assert.ok(
        ports.every((p) => p >= 10_000 && p < 10_300),
        "ports counted up from 10,000 per address",
      );
    });
  });
});
