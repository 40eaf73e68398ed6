// The memory broker (see broker.ts): keys, values, versions, history and expiry in this process,
// its waiters in a parking lot (parking-lot.ts). It knows no HTTP and no sockets. Time comes from an
// injected Clock, so expiry and timeouts are tested exactly, without sleeps. The HTTP layer (app.ts)
// maps requests onto it.
//
// Memory stays bounded: a key with no live value and no waiters is dropped.

import {
  type Broker,
  type BrokerCounters,
  type BrokerLimits,
  type BrokerStats,
  type Deliver,
  type Notification,
  type Outcome,
  TIMEOUT,
  type Waiter,
  zeroCounters,
} from "./broker.ts";
import { type Clock, systemClock } from "./clock.ts";
import { ParkingLot, refusal } from "./parking-lot.ts";
import type { ClearRequest, GetRequest, SetRequest } from "./protocol.ts";
import { SHUTTING_DOWN_MESSAGE } from "./protocol.ts";

/** A key held: its value and history (its waiters are in the parking lot). */
class Entry {
  /** The live value: the newest of `history`. */
  value: Notification | undefined = undefined;
  /** Recent values in version order (newest last), at most maxHistory; they expire with the key's value. */
  history: Notification[] = [];
  /** Version of the newest value dropped from history (0: none). A cursor older than it missed values. */
  compactedVersion = 0;
  expiresAtMs = 0;
  constructor(readonly key: string) {}
}

/** The least time between two full sweeps forced by a full store (see sweepWhenFull). */
const FULL_SWEEP_INTERVAL_MS = 1_000;

export class MemoryBroker implements Broker {
  readonly kind = "memory";
  /** Keys with a value or parked waiters: what --max-keys bounds. */
  private readonly entries = new Map<string, Entry>();
  private readonly counters: BrokerCounters = zeroCounters();
  private readonly lot: ParkingLot;
  /** One version counter for all keys, so a cursor stays valid even after its key was dropped. */
  private version = 0;
  private closed = false;

  /** When createEntry last swept every key because the store was full (clock ms). */
  private lastFullSweepMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly limits: BrokerLimits,
    private readonly clock: Clock = systemClock,
  ) {
    this.lot = new ParkingLot(limits, clock, this.counters, (key) => {
      const entry = this.entries.get(key);
      if (entry !== undefined) this.dropIfIdle(entry);
    });
  }

  get(req: GetRequest, deliver: Deliver, context?: unknown): Outcome | Waiter {
    this.counters.gets++;
    if (this.closed) throw refusal(this.counters, "shutting_down", SHUTTING_DOWN_MESSAGE);
    const since = req.since ?? -1;
    const existing = this.entries.get(req.key);
    if (existing) {
      const present = this.liveValue(existing);
      if (present && present.version > since) {
        this.counters.immediate++;
        if (req.since === undefined) return { kind: "value", notification: present };
        // The cursor: the oldest value the client has not seen, so a re-poll loses none of them.
        const next = existing.history.find((n) => n.version > since) ?? present;
        return since < existing.compactedVersion
          ? { kind: "value", notification: next, compacted: true }
          : { kind: "value", notification: next };
      }
    }
    if (req.timeoutS === 0) {
      this.counters.timeouts++;
      return TIMEOUT;
    }
    const entry = existing ?? this.createEntry(req.key);
    try {
      return this.lot.park(req, deliver, context, { timed: true, reading: false });
    } catch (error) {
      this.dropIfIdle(entry); // made for this waiter, refused
      throw error;
    }
  }

  cancel(waiter: Waiter): void {
    this.lot.cancel(waiter);
  }

  handOver(waiter: Waiter): GetRequest | undefined {
    return this.lot.handOver(waiter);
  }

  /** Store the value, wake every parked waiter of the key whose cursor it passes. */
  set(req: SetRequest): { version: number; woken: number } {
    this.counters.sets++;
    if (this.closed) throw refusal(this.counters, "shutting_down", SHUTTING_DOWN_MESSAGE);
    const entry = this.entries.get(req.key) ?? this.createEntry(req.key);
    this.liveValue(entry); // an expired value's history goes before the new value joins it
    const notification: Notification = { key: req.key, value: req.value, version: ++this.version };
    entry.value = notification;
    entry.history.push(notification);
    if (entry.history.length > this.limits.maxHistory) {
      entry.compactedVersion = (entry.history.shift() as Notification).version;
    }
    entry.expiresAtMs = this.clock.now() + req.expiredS * 1000;
    const woken = this.lot.wake(notification);
    this.dropIfIdle(entry);
    return { version: notification.version, woken };
  }

  /** Drop all values, or those that expire before `validBegin` (epoch seconds). Waiters stay parked. */
  clear(req: ClearRequest): { cleared: number } {
    this.counters.clears++;
    const cutoffMs = req.validBegin === undefined ? Number.POSITIVE_INFINITY : req.validBegin * 1000;
    let cleared = 0;
    for (const entry of this.entries.values()) {
      if (entry.value && entry.expiresAtMs < cutoffMs) {
        this.forget(entry);
        cleared++;
        this.dropIfIdle(entry);
      }
    }
    return { cleared };
  }

  parkedCount(): number {
    return this.lot.count;
  }

  /** Answer every parked waiter with shutting_down and refuse new requests from now on. */
  shutdown(): number {
    this.closed = true;
    return this.lot.shutdown();
  }

  /** Drop keys whose value has expired and that have no waiters. Called periodically and when full. */
  sweepExpired(): number {
    let dropped = 0;
    for (const entry of this.entries.values()) {
      if (!this.lot.hasWaiters(entry.key) && !this.liveValue(entry)) {
        this.entries.delete(entry.key);
        dropped++;
      }
    }
    return dropped;
  }

  stats(): BrokerStats {
    let values = 0;
    for (const entry of this.entries.values()) if (entry.value) values++;
    return {
      waiters: this.lot.count,
      keys: this.entries.size,
      values,
      version: this.version,
      counters: { ...this.counters },
      broker: { kind: "memory" },
    };
  }

  /** Nothing to release: the memory broker holds no connections. */
  close(): Promise<void> {
    return Promise.resolve();
  }

  /** The entry's value if present and not expired; an expired value is forgotten on the way. */
  private liveValue(entry: Entry): Notification | undefined {
    if (entry.value && entry.expiresAtMs <= this.clock.now()) this.forget(entry);
    return entry.value;
  }

  /** Drop the key's value and its history (expired or cleared). */
  private forget(entry: Entry): void {
    entry.value = undefined;
    entry.history = [];
  }

  /**
   * At --max-keys, sweep expired keys at most once a second: a full sweep visits every key, so
   * sweeping on every refused request let a few clients make each refusal cost that much. Between
   * sweeps a refusal is O(1).
   */
  private sweepWhenFull(): number {
    const now = this.clock.now();
    if (now - this.lastFullSweepMs < FULL_SWEEP_INTERVAL_MS) return 0;
    this.lastFullSweepMs = now;
    return this.sweepExpired();
  }

  private dropIfIdle(entry: Entry): void {
    if (!this.lot.hasWaiters(entry.key) && !this.liveValue(entry) && this.entries.get(entry.key) === entry) {
      this.entries.delete(entry.key);
    }
  }

  private createEntry(key: string): Entry {
    if (this.entries.size >= this.limits.maxKeys && this.sweepWhenFull() === 0) {
      throw refusal(
        this.counters,
        "too_many_keys",
        `the server holds ${this.entries.size} keys, its limit (server flag --max-keys); clear some or retry later`,
      );
    }
    const entry = new Entry(key);
    this.entries.set(key, entry);
    return entry;
  }
}
