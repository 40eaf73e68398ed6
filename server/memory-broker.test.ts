import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type BrokerLimits, type Outcome, Waiter } from "./broker.ts";
import { MemoryBroker } from "./memory-broker.ts";
import { ProtocolError } from "./protocol.ts";
import { FakeClock } from "./testing/fake-clock.ts";

const LIMITS: BrokerLimits = { maxWaiters: 1000, maxWaitersPerKey: 1000, maxKeys: 1000, maxHistory: 8 };

function setup(limits: Partial<BrokerLimits> = {}) {
  const clock = new FakeClock();
  const store = new MemoryBroker({ ...LIMITS, ...limits }, clock);
  const outcomes: Outcome[] = [];
  const park = (key: string, timeoutS = 60, since?: number) => {
    const result = store.get({ key, timeoutS, since }, (o) => outcomes.push(o));
    assert.ok(result instanceof Waiter, "expected the get to park");
    return result;
  };
  return { clock, store, outcomes, park };
}

const outcomeText = (o: Outcome | undefined) => (o?.kind === "value" ? o.notification.value : o?.kind);

describe("MemoryBroker", () => {
  test("a parked get is answered by set, and nothing is left behind", () => {
    const { store, outcomes, park, clock } = setup();
    park("k");
    assert.equal(store.stats().waiters, 1);
    const { woken } = store.set({ key: "k", value: "v", expiredS: 10 });
    assert.equal(woken, 1);
    assert.deepEqual(outcomes.map(outcomeText), ["v"]);
    assert.equal(store.stats().waiters, 0);
    assert.equal(clock.pending, 0, "the waiter's timer was cleared");
  });

  test("one set wakes 1,000 waiters with one shared outcome", () => {
    const { store, outcomes, park } = setup();
    for (let i = 0; i < 1000; i++) park("k");
    store.set({ key: "k", value: "x", expiredS: 10 });
    assert.equal(outcomes.length, 1000);
    assert.ok(outcomes.every((o) => o === outcomes[0]));
    assert.equal(store.stats().counters.wakes, 1000);
  });

  test("a present value answers at once; it expires on the clock", () => {
    const { store, clock } = setup();
    store.set({ key: "k", value: "v", expiredS: 5 });
    assert.equal(
      outcomeText(store.get({ key: "k", timeoutS: 60, since: undefined }, () => {}) as Outcome),
      "v",
    );
    clock.advance(5000);
    const later = store.get({ key: "k", timeoutS: 60, since: undefined }, () => {});
    assert.ok(later instanceof Waiter, "an expired value is not answered");
  });

  test("timeout answers exactly once at the deadline and drops the key", () => {
    const { store, outcomes, park, clock } = setup();
    park("k", 3);
    clock.advance(2999);
    assert.equal(outcomes.length, 0);
    clock.advance(1);
    assert.deepEqual(outcomes.map(outcomeText), ["timeout"]);
    assert.deepEqual(
      { waiters: store.stats().waiters, keys: store.stats().keys, timeouts: store.stats().counters.timeouts },
      { waiters: 0, keys: 0, timeouts: 1 },
    );
  });

  test("timeout 0 answers at once with the value or a timeout", () => {
    const { store } = setup();
    assert.equal(
      store.get({ key: "k", timeoutS: 0, since: undefined }, () => {}),
      store.get({ key: "j", timeoutS: 0, since: undefined }, () => {}),
    );
    store.set({ key: "k", value: "v", expiredS: 10 });
    assert.equal(
      outcomeText(store.get({ key: "k", timeoutS: 0, since: undefined }, () => {}) as Outcome),
      "v",
    );
  });

  test("the since cursor loses nothing when several sets land between polls", () => {
    const { store } = setup();
    const first = store.set({ key: "k", value: "a", expiredS: 10 }).version;
    store.set({ key: "k", value: "b", expiredS: 10 });
    store.set({ key: "k", value: "c", expiredS: 10 });
    // The client saw `first`; each re-poll with the last version seen returns the next value at once.
    const seen: string[] = [];
    let cursor = first;
    for (;;) {
      const r = store.get({ key: "k", timeoutS: 60, since: cursor }, () => {});
      if (r instanceof Waiter) {
        store.cancel(r);
        break;
      }
      assert.equal(r.kind, "value");
      if (r.kind !== "value") break;
      assert.equal(r.compacted, undefined);
      seen.push(r.notification.value);
      cursor = r.notification.version;
    }
    assert.deepEqual(seen, ["b", "c"]);
    // Re-polling with the newest version parks until the next set.
    const outcomes: Outcome[] = [];
    const w = store.get({ key: "k", timeoutS: 60, since: cursor }, (o) => outcomes.push(o));
    assert.ok(w instanceof Waiter);
    store.set({ key: "k", value: "d", expiredS: 10 });
    assert.deepEqual(outcomes.map(outcomeText), ["d"]);
  });

  test("a cursor older than the retained history is told values were compacted", () => {
    const { store } = setup({ maxHistory: 2 });
    const v1 = store.set({ key: "k", value: "1", expiredS: 10 }).version;
    store.set({ key: "k", value: "2", expiredS: 10 });
    store.set({ key: "k", value: "3", expiredS: 10 });
    store.set({ key: "k", value: "4", expiredS: 10 });
    const r = store.get({ key: "k", timeoutS: 60, since: v1 }, () => {}) as Outcome;
    assert.ok(r.kind === "value" && r.compacted === true && r.notification.value === "3");
    // Without a cursor, the original semantics: the live value.
    assert.equal(
      outcomeText(store.get({ key: "k", timeoutS: 60, since: undefined }, () => {}) as Outcome),
      "4",
    );
  });

  test("versions stay monotonic after a key was dropped", () => {
    const { store, clock } = setup();
    const v1 = store.set({ key: "k", value: "a", expiredS: 1 }).version;
    clock.advance(1000);
    store.sweepExpired();
    assert.equal(store.stats().keys, 0);
    const v2 = store.set({ key: "k", value: "b", expiredS: 1 }).version;
    assert.ok(v2 > v1);
  });

  test("a waiter with a cursor from the future keeps waiting", () => {
    const { store, outcomes } = setup();
    store.get({ key: "k", timeoutS: 60, since: 100 }, (o) => outcomes.push(o));
    store.set({ key: "k", value: "a", expiredS: 10 });
    assert.equal(outcomes.length, 0);
    assert.equal(store.stats().waiters, 1);
  });

  test("clear drops all values, or those expiring before valid_begin", () => {
    const { store, clock } = setup();
    store.set({ key: "short", value: "a", expiredS: 10 });
    store.set({ key: "long", value: "b", expiredS: 1000 });
    store.clear({ validBegin: clock.now() / 1000 + 100 });
    assert.deepEqual([store.stats().keys, store.stats().values], [1, 1]);
    store.clear({ validBegin: undefined });
    assert.deepEqual([store.stats().keys, store.stats().values], [0, 0]);
  });

  test("cancel removes the waiter, its timer and its key", () => {
    const { store, park, clock, outcomes } = setup();
    const w = park("k");
    store.cancel(w);
    store.cancel(w); // twice is harmless
    assert.deepEqual([store.stats().waiters, store.stats().keys, clock.pending], [0, 0, 0]);
    assert.equal(store.stats().counters.disconnects, 1);
    store.set({ key: "k", value: "v", expiredS: 10 });
    assert.equal(outcomes.length, 0);
  });

  test("limits refuse with their own error names", () => {
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
    keys.store.set({ key: "a", value: "v", expiredS: 10 });
    refused(() => keys.store.set({ key: "b", value: "v", expiredS: 10 }), "too_many_keys");
    keys.clock.advance(10_000); // once a's value expires, its slot is reclaimed
    keys.store.set({ key: "b", value: "v", expiredS: 10 });
    assert.equal(keys.store.stats().counters.rejected, 1);
  });

  test("at --max-keys a refusal does not sweep every key: at most one full sweep a second", () => {
    const { store, clock } = setup({ maxKeys: 1000 });
    for (let i = 0; i < 1000; i++) store.set({ key: `k${i}`, value: "v", expiredS: 5 });
    const sweeps = () => store.stats().keys;
    let refusals = 0;
    const tryNew = (key: string) => {
      try {
        store.set({ key, value: "v", expiredS: 5 });
      } catch (e) {
        assert.ok(e instanceof ProtocolError && e.errorName === "too_many_keys");
        refusals++;
      }
    };
    // Spy on the sweep: count the keys the store visits through Map iteration.
    const entries = (store as unknown as { entries: Map<string, unknown> }).entries;
    const values = entries.values.bind(entries);
    let visited = 0;
    entries.values = () => {
      const it = values();
      return {
        [Symbol.iterator]() {
          return this;
        },
        next() {
          const r = it.next();
          if (!r.done) visited++;
          return r;
        },
      } as MapIterator<unknown>;
    };
    for (let i = 0; i < 100; i++) tryNew(`new${i}`);
    assert.equal(refusals, 100);
    assert.ok(visited <= 1000, `one sweep at most in the first second, visited ${visited} keys`);
    clock.advance(5_000); // every value expired: the next refusal-to-be sweeps and makes room
    tryNew("after");
    assert.equal(refusals, 100);
    assert.equal(sweeps(), 1);
  });

  test("shutdown answers every waiter and refuses new requests", () => {
    const { store, park, outcomes, clock } = setup();
    for (let i = 0; i < 5; i++) park(`k${i % 2}`);
    assert.equal(store.shutdown(), 5);
    assert.deepEqual(new Set(outcomes.map(outcomeText)), new Set(["shutting_down"]));
    assert.equal(outcomes.length, 5);
    assert.equal(clock.pending, 0);
    assert.throws(
      () => park("x"),
      (e: unknown) => e instanceof ProtocolError && e.errorName === "shutting_down",
    );
  });

  test("a set after a value expired starts a fresh history (an expired value is never a cursor's answer)", () => {
    const { store, clock } = setup();
    store.set({ key: "k", value: "old", expiredS: 1 });
    clock.advance(2000);
    const { version } = store.set({ key: "k", value: "new", expiredS: 60 });
    const got = store.get({ key: "k", timeoutS: 0, since: 0 }, () => {});
    assert.ok(!(got instanceof Waiter) && got.kind === "value");
    assert.equal(got.kind === "value" && got.notification.version, version);
  });
});
