// /stats?gc=1 is not an open lever: collections are shared and spaced (at most a tenth of the
// process's time), and only loopback clients may ask.

import assert from "node:assert/strict";
import { test } from "node:test";
import { isLoopback, MAX_GC_SHARE, StatsCollector } from "./stats-gc.ts";

test("200 requests at once: one collection now, one shared by the rest, each answered after one", async () => {
  let clock = 0;
  const collector = new StatsCollector(
    () => {
      clock += 5; // each collection takes 5 ms of the (injected) clock
    },
    () => clock,
  );
  const answers = await Promise.all(Array.from({ length: 200 }, () => collector.request()));
  assert.ok(answers.every((a) => a === true));
  assert.equal(collector.collections, 2);
  // The next one waits until 10 × 5 ms after the last began: none runs before that.
  const late = collector.request();
  assert.equal(collector.collections, 2, "not yet: within the spacing");
  assert.equal(await late, true);
  assert.equal(collector.collections, 3);
  assert.equal(MAX_GC_SHARE, 0.1);
});

test("once the spacing has passed, a request collects at once", async () => {
  let clock = 0;
  const collector = new StatsCollector(
    () => {
      clock += 2;
    },
    () => clock,
  );
  await collector.request();
  clock += 1_000;
  const p = collector.request();
  assert.equal(collector.collections, 2, "ran synchronously");
  assert.equal(await p, true);
});

test("without a collector (no --expose-gc): false, nothing waits", async () => {
  assert.equal(await new StatsCollector(undefined).request(), false);
});

test("loopback addresses", () => {
  for (const a of ["127.0.0.1", "127.3.2.1", "::1", "::ffff:127.0.0.1"]) assert.equal(isLoopback(a), true, a);
  for (const a of ["10.0.0.1", "::ffff:10.0.0.1", "fe80::1", "", undefined])
    assert.equal(isLoopback(a), false, String(a));
});
