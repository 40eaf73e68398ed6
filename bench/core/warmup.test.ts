// --warmup: the target serves N waiters of its own key before the measured phases, and the run's
// counts are untouched by them.

import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import { test } from "node:test";
import { metricOf, testContext } from "../testing/run-context.ts";
import { burstScenario } from "../testing/scenario-file.ts";
import { isComplete } from "./result.ts";
import { runScenario } from "./run.ts";
import { socketsNeeded } from "./scenario.ts";
import { spawnReference } from "./targets/reference.ts";
import type { Target } from "./targets/target.ts";
import { warmUpTarget } from "./warmup.ts";

test("a warmed-up run: the warm-up's waiters all answered, then the run's own counts exact", async () => {
  let target: Target | undefined;
  const r = await runScenario(
    burstScenario({ name: "warm", waiters: 400, keys: 2, sets: { count: 2, window_ms: 0 } }),
    testContext(
      async (s) => {
        target = await spawnReference({ waiters: socketsNeeded(s) });
        return target;
      },
      { warmup: 300 },
    ),
  );
  assert.ok(isComplete(r), r.warnings.join("; "));
  assert.equal(metricOf(r, "warmup_answered"), 300);
  assert.ok((metricOf(r, "phase_warmup_ms") ?? 0) > 0, "a phase of its own");
  assert.equal(metricOf(r, "delivered"), 400, "the run's waiters, none of the warm-up's");
  assert.equal(metricOf(r, "missing"), 0);
  assert.equal(metricOf(r, "parked_at_ready"), 400, "the warm-up's waiters had left before the run's parked");
  // Its RSS holds what the warm-up used: not a waiter's cost, so absent, with the reason.
  assert.equal(metricOf(r, "target_rss_per_waiter_bytes"), undefined);
  assert.deepEqual(
    r.warnings.map((w) => /RSS per waiter not measured after --warmup 300/.test(w)),
    [true],
    r.warnings.join("; "),
  );
  assert.ok(target);
});

test("without --warmup there is no warm-up phase", async () => {
  const r = await runScenario(
    burstScenario({ name: "cold", waiters: 100, keys: 1, sets: { count: 1, window_ms: 0 } }),
    testContext((s) => spawnReference({ waiters: socketsNeeded(s) })),
  );
  assert.ok(isComplete(r));
  assert.equal(metricOf(r, "warmup_answered"), undefined);
  assert.equal(metricOf(r, "phase_warmup_ms"), undefined);
});

test("a target that never answers: the warm-up stops at its deadline and says what fell short", async (t) => {
  const held: Socket[] = [];
  const server = createServer((socket) => held.push(socket)); // accepts, reads, never answers
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => {
    for (const s of held) s.destroy();
    server.close();
  });
  const port = (server.address() as { port: number }).port;
  const reference = await spawnReference({ waiters: 10 }); // only for its adapter and profile
  await reference.stop();
  const silent = {
    ...reference,
    url: new URL(`http://127.0.0.1:${port}`),
    stats: async () => undefined,
  } as Target;
  // It returns (a server that never answers does not hold it), and says why it fell short.
  const w = await warmUpTarget(silent, 20, undefined, 300);
  assert.equal(w.answered, 0);
  assert.match(w.shortfall ?? "", /the warm-up's set was not answered within 0\.3 s/);
});
