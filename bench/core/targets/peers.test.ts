// Each peer at a small size, spawned as the harness spawns it: every waiter gets its value, a timeout
// is classified as a timeout, and a peer that exits at start is a target failure (exit 3) with its
// output, not a hang. The peers are Debian packages (scripts/install-peers.sh, run by .ci/run); a
// machine without them skips these tests, saying why.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { metricOf, testContext } from "../../testing/run-context.ts";
import { burstScenario } from "../../testing/scenario-file.ts";
import { failureOf } from "../result.ts";
import { runScenario } from "../run.ts";
import type { Scenario } from "../scenario.ts";
import { nchanProfile, seedProfile } from "./builtin-profiles.ts";
import { nchanConfig, nchanMissing, startNchan, startTornado, tornadoMissing } from "./peers.ts";
import { adapterFromProfile } from "./profile-adapter.ts";
import { spawnTarget } from "./spawn.ts";
import { profileSupports } from "./supports.ts";
import type { Target } from "./target.ts";

const context = (startTarget: () => Promise<Target>) => testContext(startTarget, { workers: 1 });

const fanout: Scenario = burstScenario({
  name: "peer-fanout",
  waiters: 200,
  keys: 2,
  arrival: { type: "uniform", window_ms: 200 },
  sets: { count: 2, window_ms: 0 },
});

const metric = metricOf;

describe("tornado peer (the original design)", { skip: tornadoMissing() }, () => {
  test("200 waiters over 2 keys: all delivered; no /stats, so the barrier is approximate", async () => {
    const r = await runScenario(fanout, context(startTornado));
    assert.equal(failureOf(r), undefined, failureOf(r)?.message);
    assert.deepEqual(
      ["delivered", "missing", "duplicates", "errors"].map((m) => metric(r, m)),
      [200, 0, 0, 0],
    );
    assert.equal(r.flags.barrierApproximate, true);
  });

  test('its timeout answer ({"error_code": 2}, no name) is classified as a timeout', async () => {
    const r = await runScenario(
      {
        name: "peer-storm",
        description: "t",
        type: "timeout-storm",
        waiters: 20,
        keys: 1,
        arrival: { type: "all-at-once" },
        timeout_s: 1,
        deadlines: { ready_ms: 5_000, collect_ms: 5_000 },
      },
      context(startTornado),
    );
    assert.equal(failureOf(r), undefined, failureOf(r)?.message);
    assert.equal(metric(r, "timeouts"), 20);
    assert.equal(metric(r, "errors"), 0);
  });
});

describe("nchan peer", { skip: nchanMissing() }, () => {
  test("200 waiters over 2 keys: all delivered; the barrier counts nchan's subscribers", async () => {
    const r = await runScenario(
      fanout,
      context(() => startNchan({ backlog: 511 })),
    );
    assert.equal(failureOf(r), undefined, failureOf(r)?.message);
    assert.deepEqual(
      ["delivered", "missing", "duplicates", "errors", "parked_at_ready"].map((m) => metric(r, m)),
      [200, 0, 0, 0, 200],
    );
    assert.equal(r.flags.barrierApproximate, false);
  });

  test("the nchan profile: subscribe, publish, classify, cursor from Last-Modified/Etag", () => {
    const nchanAdapter = adapterFromProfile(nchanProfile);
    assert.match(
      nchanAdapter.waitRequest("h:1", "a b", 5),
      /^GET \/sub\/a%20b HTTP\/1\.1\r\nHost: h:1\r\n\r\n$/,
    );
    assert.deepEqual(nchanAdapter.setRequest("k", "v"), {
      method: "POST",
      path: "/pub/k",
      body: "v",
      contentType: "text/plain",
    });
    assert.deepEqual(nchanAdapter.classify(200, "lpb:1"), { kind: "value", value: "lpb:1" });
    assert.deepEqual(nchanAdapter.classify(408, ""), { kind: "timeout" });
    assert.equal(nchanAdapter.classify(500, "").kind, "error");
    assert.ok(!profileSupports(nchanProfile).includes("timeout-storm"));
    assert.equal(nchanAdapter.hasTimeout, false);
    const answer = nchanAdapter.classify(200, "m", {
      "last-modified": "Sat, 28 Nov 2026 08:00:00 GMT",
      etag: "3",
    });
    assert.deepEqual(answer, { kind: "value", value: "m", cursor: "Sat, 28 Nov 2026 08:00:00 GMT\n3" });
    assert.match(
      nchanAdapter.waitRequest("h:1", "k", 5, answer.kind === "value" ? answer.cursor : undefined),
      /If-Modified-Since: Sat, 28 Nov 2026 08:00:00 GMT\r\nIf-None-Match: 3\r\n\r\n$/,
    );
  });

  test("the config listens on loopback only, with its own pid file", () => {
    const conf = nchanConfig("/tmp/x", 1234, { backlog: 511 });
    assert.match(conf, /listen 127\.0\.0\.1:1234 backlog=511;/);
    assert.match(conf, /pid \/tmp\/x\/nginx\.pid;/);
    assert.match(conf, /nchan_subscriber_first_message newest;/);
  });
});

describe("a peer that exits at start", () => {
  test("is a target failure (exit 3) naming it, with its output", async () => {
    const r = await runScenario(
      fanout,
      context(() =>
        spawnTarget({
          name: "broken-peer",
          command: "/bin/sh",
          args: ["-c", "echo 'bind() to 127.0.0.1 failed (98: Address already in use)' >&2; exit 1"],
          profile: seedProfile,
          ready: { kind: "url", url: new URL("http://127.0.0.1:9/healthz"), ok2xx: false },
        }),
      ),
    );
    assert.equal(failureOf(r)?.exitCode, 3);
    assert.match(failureOf(r)?.message ?? "", /"broken-peer".*exited with code 1.*Address already in use/s);
  });
});
