// The parking lot: every parked /get of this process, by key, with the limits on them and their
// timers. Both brokers park here (memory-broker.ts beside its values, redis/redis-broker.ts with the
// values in Redis); it knows no values, no HTTP and no sockets.
//
// Memory stays bounded: a waiter that is answered, times out or is cancelled leaves nothing behind
// (its timer is cleared, its entry removed, its key's set dropped with its last waiter). The Waiter
// itself is in broker.ts: the HTTP layer holds it too.

import {
  BROKER_UNAVAILABLE,
  type BrokerCounters,
  type BrokerLimits,
  type Deliver,
  type Found,
  type Notification,
  type Outcome,
  SHUTTING_DOWN,
  TIMEOUT,
  Waiter,
  type WaiterSlot,
} from "./broker.ts";
import type { Clock } from "./clock.ts";
import { type GetRequest, ProtocolError } from "./protocol.ts";

export type RefusalName = "overloaded" | "key_overloaded" | "too_many_keys" | "shutting_down";

/** A limit's refusal, counted. */
export function refusal(counters: BrokerCounters, name: RefusalName, message: string): ProtocolError {
  counters.rejected++;
  return new ProtocolError(name, message);
}

class KeySlot extends Set<Waiter> implements WaiterSlot {
  constructor(readonly key: string) {
    super();
  }
}

export interface ParkOptions {
  /** Give it a timer for the request's timeout (a shared broker's timeout-0 read answers without one). */
  timed: boolean;
  /** A shared broker's read for it follows: hold wakes until settle(). */
  reading: boolean;
}

export class ParkingLot {
  private readonly slots = new Map<string, KeySlot>();
  private waiterCount = 0;

  constructor(
    private readonly limits: BrokerLimits,
    private readonly clock: Clock,
    /** The broker's counters: wakes, timeouts, disconnects and refusals are counted into them. */
    private readonly counters: BrokerCounters,
    /** A key's last waiter left (the memory broker then drops a key with no value either). */
    private readonly onKeyIdle: (key: string) => void = () => {},
  ) {}

  /** Park a /get. Throws ProtocolError when a limit refuses it. */
  park(req: GetRequest, deliver: Deliver, context: unknown, options: ParkOptions): Waiter {
    if (this.waiterCount >= this.limits.maxWaiters) {
      throw refusal(
        this.counters,
        "overloaded",
        `the server holds ${this.waiterCount} parked waiters, its limit (server flag --max-waiters); retry later`,
      );
    }
    let slot = this.slots.get(req.key);
    if (slot === undefined) {
      if (this.slots.size >= this.limits.maxKeys) {
        throw refusal(
          this.counters,
          "too_many_keys",
          `the server holds ${this.slots.size} keys, its limit (server flag --max-keys); clear some or retry later`,
        );
      }
      slot = new KeySlot(req.key);
      this.slots.set(req.key, slot);
    } else if (slot.size >= this.limits.maxWaitersPerKey) {
      throw refusal(
        this.counters,
        "key_overloaded",
        `key "${req.key}" has ${slot.size} parked waiters, its limit (server flag --max-waiters-per-key)`,
      );
    }
    const waiter = new Waiter(slot, req.since ?? -1, deliver, context);
    if (options.timed) waiter.timer = this.clock.setTimeout(() => this.expire(waiter), req.timeoutS * 1000);
    waiter.deadlineMs = this.clock.now() + req.timeoutS * 1000;
    waiter.reading = options.reading;
    slot.add(waiter);
    this.waiterCount++;
    return waiter;
  }

  /** The client went away: remove the waiter at once. A no-op for one already answered. */
  cancel(waiter: Waiter): void {
    if (this.detach(waiter)) this.counters.disconnects++;
  }

  /**
   * Take a parked waiter out to be parked again elsewhere (the front handing its connection to
   * fastify): not a disconnect. Returns the request that parks it again with the time it has left.
   */
  handOver(waiter: Waiter): GetRequest | undefined {
    if (!this.detach(waiter)) return undefined;
    const left = Math.max(0, waiter.deadlineMs - this.clock.now()) / 1000;
    return { key: waiter.key, timeoutS: left, since: waiter.since < 0 ? undefined : waiter.since };
  }

  /** A value was stored: wake the key's waiters whose cursor it passes. Returns how many. */
  wake(notification: Notification): number {
    const slot = this.slots.get(notification.key);
    if (slot === undefined) return 0;
    const outcome: Outcome = { kind: "value", notification };
    let woken = 0;
    for (const waiter of slot) {
      if (waiter.since >= notification.version) continue; // a cursor from the future keeps waiting
      if (waiter.reading) {
        waiter.held ??= notification; // the first wake after the read; settle() decides
        continue;
      }
      this.clock.clearTimeout(waiter.timer);
      slot.delete(waiter);
      this.waiterCount--;
      woken++;
      waiter.deliver(outcome, waiter.context);
    }
    this.counters.wakes += woken;
    this.dropIfEmpty(slot);
    return woken;
  }

  /**
   * A shared broker's read for a parked waiter answered (found: a value newer than its cursor, or
   * undefined), or failed (the broker is unreachable: it stays parked for the catch-up after
   * reconnecting, unless it has no timer, i.e. timeout 0). A no-op for a waiter no longer parked.
   */
  settle(waiter: Waiter, found: Found | undefined, failed = false): void {
    waiter.reading = false;
    const held = waiter.held;
    waiter.held = undefined;
    if (!waiter.slot.has(waiter)) return;
    let outcome: Outcome | undefined;
    if (found !== undefined) {
      this.counters.immediate++;
      outcome = found.compacted
        ? { kind: "value", notification: found.notification, compacted: true }
        : { kind: "value", notification: found.notification };
    } else if (held !== undefined && !failed) {
      this.counters.wakes++;
      outcome = { kind: "value", notification: held };
    } else if (waiter.timer === undefined) {
      // timeout 0: answered now whatever the read said
      if (failed) outcome = BROKER_UNAVAILABLE;
      else {
        this.counters.timeouts++;
        outcome = TIMEOUT;
      }
    }
    if (outcome === undefined) return;
    this.detach(waiter);
    waiter.deliver(outcome, waiter.context);
  }

  /** Every parked waiter not waiting for a read: the catch-up after a shared broker comes back. */
  *parkedWaiters(): IterableIterator<Waiter> {
    for (const slot of this.slots.values()) {
      for (const waiter of slot) if (!waiter.reading) yield waiter;
    }
  }

  /** Is this waiter still parked here? */
  isParked(waiter: Waiter): boolean {
    return waiter.slot.has(waiter);
  }

  hasWaiters(key: string): boolean {
    return this.slots.has(key);
  }

  /** Parked waiters. */
  get count(): number {
    return this.waiterCount;
  }

  /** Keys with parked waiters. */
  get keyCount(): number {
    return this.slots.size;
  }

  /** Answer every parked waiter with shutting_down. Returns how many. */
  shutdown(): number {
    let answered = 0;
    for (const slot of [...this.slots.values()]) {
      for (const waiter of [...slot]) {
        this.detach(waiter);
        answered++;
        waiter.deliver(SHUTTING_DOWN, waiter.context);
      }
    }
    return answered;
  }

  private expire(waiter: Waiter): void {
    if (!this.detach(waiter)) return;
    this.counters.timeouts++;
    waiter.deliver(TIMEOUT, waiter.context);
  }

  /** Remove a parked waiter; false when it was no longer parked. */
  private detach(waiter: Waiter): boolean {
    const slot = waiter.slot;
    if (!slot.delete(waiter)) return false;
    this.clock.clearTimeout(waiter.timer);
    this.waiterCount--;
    this.dropIfEmpty(slot);
    return true;
  }

  private dropIfEmpty(slot: KeySlot): void {
    if (slot.size > 0 || this.slots.get(slot.key) !== slot) return;
    this.slots.delete(slot.key);
    this.onKeyIdle(slot.key);
  }
}
