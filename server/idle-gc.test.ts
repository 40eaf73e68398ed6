import assert from "node:assert/strict";
import { test } from "node:test";
import { MIN_NEW_PARKED, startIdleCollector } from "./idle-gc.ts";
import { FakeClock } from "./testing/fake-clock.ts";

test("young garbage is collected once parks have come and the count is still, not while it moves", (t) => {
  const clock = new FakeClock();
  let parked = 0;
  const calls: string[] = [];
  const collector = startIdleCollector(
    () => parked,
    (o) => calls.push(o.type),
    clock,
  );
  t.after(() => collector.stop());
  // Parks arriving: the count moves at every look, so nothing is collected.
  for (let i = 0; i < 6; i++) {
    parked += 400;
    clock.advance(50);
  }
  assert.equal(calls.length, 0, "nothing while parks arrive");
  clock.advance(50); // still for one look
  assert.deepEqual(calls, ["minor", "minor"], "two young collections in the quiet");
  clock.advance(500);
  assert.equal(collector.collections, 1, "once: nothing new parked since");
  // A wake takes the count down, a few parks come back: under MIN_NEW_PARKED new since the lowest.
  parked = 0;
  clock.advance(50);
  parked = MIN_NEW_PARKED - 1;
  clock.advance(500);
  assert.equal(collector.collections, 1, "too few new parks to be worth a collection");
  parked += 1;
  clock.advance(100);
  assert.equal(collector.collections, 2, "MIN_NEW_PARKED new since the lowest count: collected again");
  collector.stop();
  assert.equal(clock.pending, 0, "stopped: no timer left");
});

test("without --expose-gc it does nothing", () => {
  const collector = startIdleCollector(() => 5_000, undefined);
  assert.equal(collector.collections, 0);
  collector.stop();
});
