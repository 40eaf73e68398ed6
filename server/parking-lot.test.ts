// The parking lot as a shared broker (Redis) uses it: park first, read second, then settle; and the
// limits both brokers share. The memory broker's use of it is tested in memory-broker.test.ts.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type BrokerLimits, type Outcome, zeroCounters } from "./broker.ts";
import { ParkingLot } from "./parking-lot.ts";
import { ProtocolError } from "./protocol.ts";
import { FakeClock } from "./testing/fake-clock.ts";

const LIMITS: BrokerLimits = { maxWaiters: 1000, maxWaitersPerKey: 1000, maxKeys: 1000, maxHistory: 8 };

function setup(limits: Partial<BrokerLimits> = {}) {
  const clock = new FakeClock();
  const counters = zeroCounters();
  const idle: string[] = [];
  const lot = new ParkingLot({ ...LIMITS, ...limits }, clock, counters, (key) => idle.push(key));
  const outcomes: Outcome[] = [];
  const deliver = (o: Outcome) => outcomes.push(o);
  /** Parked as a shared broker parks: a read follows; timeout 0 has no timer. */
  const park = (key: string, timeoutS = 60, since?: number) =>
    lot.park({ key, timeoutS, since }, deliver, undefined, { timed: timeoutS > 0, reading: true });
  return { clock, counters, lot, outcomes, park, idle };
}

const outcomeText = (o: Outcome | undefined) => (o?.kind === "value" ? o.notification.value : o?.kind);
const n = (value: string, version: number) => ({ key: "k", value, version });

describe("parking lot of a shared broker (park, then read, then settle)", () => {
  test("a wake during the read is held; with nothing found by the read, the held value answers", () => {
    const { lot, outcomes, idle } = setup();
    const w = lot.park({ key: "k", timeoutS: 60, since: 4 }, (o) => outcomes.push(o), undefined, {
      timed: true,
      reading: true,
    });
    lot.wake(n("newer", 6)); // the set landed after the read ran, its message came first
    assert.deepEqual(outcomes, [], "not delivered while the read is in flight");
    lot.settle(w, undefined);
    assert.deepEqual(outcomes.map(outcomeText), ["newer"]);
    assert.deepEqual([lot.count, lot.keyCount], [0, 0]);
    assert.deepEqual(idle, ["k"], "the key's last waiter left: reported once");
  });

  test("the read's value wins over a held one: the cursor gets the oldest value it has not seen", () => {
    const { lot, outcomes, park } = setup();
    const w = park("k", 60, 4);
    lot.wake(n("six", 6));
    lot.settle(w, { notification: n("five", 5), compacted: false });
    assert.deepEqual(outcomes.map(outcomeText), ["five"]);
  });

  test("nothing found and nothing held: it stays parked, and a later wake answers it", () => {
    const { lot, outcomes, clock, park } = setup();
    const w = park("k");
    lot.settle(w, undefined);
    assert.equal(lot.count, 1);
    lot.wake(n("later", 7));
    assert.deepEqual(outcomes.map(outcomeText), ["later"]);
    assert.equal(clock.pending, 0);
  });

  test("timeout 0 is answered by the read: a value, a timeout, or broker_unavailable when the read failed", () => {
    const { lot, outcomes, park, counters } = setup();
    lot.settle(park("a", 0), { notification: n("v", 1), compacted: false });
    lot.settle(park("b", 0), undefined);
    lot.settle(park("c", 0), undefined, true);
    assert.deepEqual(outcomes.map(outcomeText), ["v", "timeout", "broker_unavailable"]);
    assert.equal(lot.count, 0);
    assert.deepEqual([counters.immediate, counters.timeouts], [1, 1]);
  });

  test("a failed read keeps a timed waiter parked (for the catch-up), even with a held wake", () => {
    const { lot, outcomes, park } = setup();
    const w = park("k", 60, 1);
    lot.wake(n("held", 3));
    lot.settle(w, undefined, true);
    assert.deepEqual(outcomes, []);
    assert.deepEqual([...lot.parkedWaiters()], [w], "offered to the catch-up");
  });

  test("a timer answers timeout once; a cancel or hand-over leaves no timer and no key behind", () => {
    const { lot, outcomes, park, clock, counters } = setup();
    lot.settle(park("t", 2), undefined);
    clock.advance(2_000);
    assert.deepEqual(outcomes.map(outcomeText), ["timeout"]);
    const c = park("c", 30);
    lot.cancel(c);
    lot.cancel(c); // twice is harmless
    const h = park("h", 30, 5);
    clock.advance(10_000);
    assert.deepEqual(lot.handOver(h), { key: "h", timeoutS: 20, since: 5 }, "the time it has left");
    assert.equal(lot.handOver(h), undefined, "no longer parked");
    assert.deepEqual([lot.count, lot.keyCount, clock.pending], [0, 0, 0]);
    assert.deepEqual([counters.timeouts, counters.disconnects], [1, 1]);
  });
});

test("limits refuse with their own error names, counted", () => {
  const refused = (fn: () => unknown, name: string) =>
    assert.throws(fn, (e: unknown) => e instanceof ProtocolError && e.errorName === name);
  const total = setup({ maxWaiters: 2 });
  total.park("a");
  total.park("b");
  refused(() => total.park("c"), "overloaded");
  const perKey = setup({ maxWaitersPerKey: 1 });
  perKey.park("a");
  refused(() => perKey.park("a"), "key_overloaded");
  perKey.park("b");
  const keys = setup({ maxKeys: 1 });
  keys.park("a");
  keys.park("a");
  refused(() => keys.park("b"), "too_many_keys");
  assert.deepEqual([total.counters.rejected, perKey.counters.rejected, keys.counters.rejected], [1, 1, 1]);
});

test("shutdown answers every waiter with shutting_down and clears every timer", () => {
  const { lot, park, outcomes, clock } = setup();
  for (let i = 0; i < 5; i++) park(`k${i % 2}`);
  assert.equal(lot.shutdown(), 5);
  assert.deepEqual(new Set(outcomes.map(outcomeText)), new Set(["shutting_down"]));
  assert.deepEqual([lot.count, lot.keyCount, clock.pending], [0, 0, 0]);
});
