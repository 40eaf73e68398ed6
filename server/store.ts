// The pure long-poll store: keys, values, versions, expiry, parked waiters and their limits.
// It knows no HTTP and no sockets. Time comes from an injected Clock, so expiry and timeouts are
// tested exactly, without sleeps. The HTTP layer (app.ts) maps requests onto it.
//
// Memory stays bounded: a key with no live value and no waiters is dropped, and a waiter that is
// answered, times out or is cancelled leaves nothing behind (its timer is cleared, its entry removed).

import type { ClearRequest, GetRequest, SetRequest } from "./protocol.ts";
import { ProtocolError, SHUTTING_DOWN_MESSAGE } from "./protocol.ts";

export type TimerHandle = unknown;

export interface Clock {
  /** Milliseconds since the epoch (values expire on wall-clock time, as `valid_begin` is epoch seconds). */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface StoreLimits {
  maxWaiters: number;
  maxWaitersPerKey: number;
  maxKeys: number;
  /** Recent values kept per key for the `since` cursor, so a re-poll misses none of them. */
  maxHistory: number;
}

/**
 * One per /set, shared by every waiter it wakes: the HTTP layer serialises it once, not once per waiter.
 */
export interface Notification {
  readonly key: string;
  readonly value: string;
  readonly version: number;
}

export type Outcome =
  /**
   * compacted: the cursor was older than the key's retained history, so values between it and this
   * one were dropped (more than maxHistory sets since the client's last poll).
   */
  | { readonly kind: "value"; readonly notification: Notification; readonly compacted?: boolean }
  | { readonly kind: "timeout" }
  | { readonly kind: "shutting_down" };

export const TIMEOUT: Outcome = Object.freeze({ kind: "timeout" });
export const SHUTTING_DOWN: Outcome = Object.freeze({ kind: "shutting_down" });

/**
 * Called exactly once with a parked waiter's outcome, and the context it was parked with. One
 * function can serve every waiter (the HTTP layer passes the response as context), so parking
 * allocates no closure per waiter.
 */
export type Deliver = (outcome: Outcome, context: unknown) => void;

/** A parked /get. Opaque to callers: they hold it only to cancel it. */
export class Waiter {
  timer: TimerHandle = undefined;
  /** When its timeout ends (clock ms). */
  deadlineMs = 0;
  constructor(
    readonly entry: Entry,
    readonly since: number,
    readonly deliver: Deliver,
    readonly context: unknown,
  ) {}
}

class Entry {
  /** The live value: the newest of `history`. */
  value: Notification | undefined = undefined;
  /** Recent values in version order (newest last), at most maxHistory; they expire with the key's value. */
  history: Notification[] = [];
  /** Version of the newest value dropped from history (0: none). A cursor older than it missed values. */
  compactedVersion = 0;
  expiresAtMs = 0;
  readonly waiters = new Set<Waiter>();
  constructor(readonly key: string) {}
}

export interface StoreCounters {
  gets: number;
  sets: number;
  clears: number;
  /** /get answered at once from a present value. */
  immediate: number;
  /** Parked waiters answered by a /set. */
  wakes: number;
  timeouts: number;
  /** Parked waiters removed because their client went away. */
  disconnects: number;
  /** Requests refused by a limit. */
  rejected: number;
}

export interface StoreStats {
  waiters: number;
  keys: number;
  values: number;
  version: number;
  counters: StoreCounters;
}

/** The least time between two full sweeps forced by a full store (see sweepWhenFull). */
const FULL_SWEEP_INTERVAL_MS = 1_000;

export class Store {
  private readonly entries = new Map<string, Entry>();
  private waiterCount = 0;
  /** One version counter for all keys, so a cursor stays valid even after its key was dropped. */
  private version = 0;
  private closed = false;
  private readonly counters: StoreCounters = {
    gets: 0,
    sets: 0,
    clears: 0,
    immediate: 0,
    wakes: 0,
    timeouts: 0,
    disconnects: 0,
    rejected: 0,
  };

  /** When createEntry last swept every key because the store was full (clock ms). */
  private lastFullSweepMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly limits: StoreLimits,
    private readonly clock: Clock = systemClock,
  ) {}

  /**
   * Answer at once (returns the outcome) or park (returns a Waiter; `deliver` is called exactly once
   * later, unless the waiter is cancelled). Throws ProtocolError when a limit refuses it.
   */
  get(req: GetRequest, deliver: Deliver, context?: unknown): Outcome | Waiter {
    this.counters.gets++;
    if (this.closed) throw this.refuse("shutting_down", SHUTTING_DOWN_MESSAGE);
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
    if (this.waiterCount >= this.limits.maxWaiters) {
      throw this.refuse(
        "overloaded",
        `the server holds ${this.waiterCount} parked waiters, its limit (server flag --max-waiters); retry later`,
      );
    }
    const entry = existing ?? this.createEntry(req.key);
    if (entry.waiters.size >= this.limits.maxWaitersPerKey) {
      throw this.refuse(
        "key_overloaded",
        `key "${req.key}" has ${entry.waiters.size} parked waiters, its limit (server flag --max-waiters-per-key)`,
      );
    }
    const waiter = new Waiter(entry, since, deliver, context);
    waiter.timer = this.clock.setTimeout(() => this.expireWaiter(waiter), req.timeoutS * 1000);
    waiter.deadlineMs = this.clock.now() + req.timeoutS * 1000;
    entry.waiters.add(waiter);
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
    return {
      key: waiter.entry.key,
      timeoutS: left,
      since: waiter.since < 0 ? undefined : waiter.since,
    };
  }

  /** Store the value, wake every parked waiter of the key whose cursor it passes. */
  set(req: SetRequest): { version: number; woken: number } {
    this.counters.sets++;
    if (this.closed) throw this.refuse("shutting_down", SHUTTING_DOWN_MESSAGE);
    const entry = this.entries.get(req.key) ?? this.createEntry(req.key);
    const notification: Notification = { key: req.key, value: req.value, version: ++this.version };
    entry.value = notification;
    entry.history.push(notification);
    if (entry.history.length > this.limits.maxHistory) {
      entry.compactedVersion = (entry.history.shift() as Notification).version;
    }
    entry.expiresAtMs = this.clock.now() + req.expiredS * 1000;
    const outcome: Outcome = { kind: "value", notification };
    let woken = 0;
    for (const waiter of entry.waiters) {
      if (waiter.since >= notification.version) continue; // a cursor from the future keeps waiting
      this.clock.clearTimeout(waiter.timer);
      entry.waiters.delete(waiter);
      this.waiterCount--;
      woken++;
      waiter.deliver(outcome, waiter.context);
    }
    this.counters.wakes += woken;
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

  /** Answer every parked waiter with shutting_down and refuse new requests from now on. */
  shutdown(): number {
    this.closed = true;
    let answered = 0;
    for (const entry of [...this.entries.values()]) {
      for (const waiter of [...entry.waiters]) {
        this.detach(waiter);
        answered++;
        waiter.deliver(SHUTTING_DOWN, waiter.context);
      }
    }
    return answered;
  }

  /** Drop keys whose value has expired and that have no waiters. Called periodically and when full. */
  sweepExpired(): number {
    let dropped = 0;
    for (const entry of this.entries.values()) {
      if (entry.waiters.size === 0 && !this.liveValue(entry)) {
        this.entries.delete(entry.key);
        dropped++;
      }
    }
    return dropped;
  }

  stats(): StoreStats {
    let values = 0;
    for (const entry of this.entries.values()) if (entry.value) values++;
    return {
      waiters: this.waiterCount,
      keys: this.entries.size,
      values,
      version: this.version,
      counters: { ...this.counters },
    };
  }

  private expireWaiter(waiter: Waiter): void {
    if (!this.detach(waiter)) return;
    this.counters.timeouts++;
    waiter.deliver(TIMEOUT, waiter.context);
  }

  /** Remove a parked waiter; false when it was no longer parked. */
  private detach(waiter: Waiter): boolean {
    const entry = waiter.entry;
    if (!entry.waiters.delete(waiter)) return false;
    this.clock.clearTimeout(waiter.timer);
    this.waiterCount--;
    this.dropIfIdle(entry);
    return true;
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
   * At --max-keys, sweep expired keys at most once a second: a full sweep visits every key (~10 ms at
   * 200,000), so sweeping on every refused request let a few clients make each refusal cost that
   * much. Between sweeps a refusal is O(1).
   */
  private sweepWhenFull(): number {
    const now = this.clock.now();
    if (now - this.lastFullSweepMs < FULL_SWEEP_INTERVAL_MS) return 0;
    this.lastFullSweepMs = now;
    return this.sweepExpired();
  }

  private dropIfIdle(entry: Entry): void {
    if (entry.waiters.size === 0 && !this.liveValue(entry)) this.entries.delete(entry.key);
  }

  private createEntry(key: string): Entry {
    if (this.entries.size >= this.limits.maxKeys && this.sweepWhenFull() === 0) {
      throw this.refuse(
        "too_many_keys",
        `the server holds ${this.entries.size} keys, its limit (server flag --max-keys); clear some or retry later`,
      );
    }
    const entry = new Entry(key);
    this.entries.set(key, entry);
    return entry;
  }

  private refuse(name: "overloaded" | "key_overloaded" | "too_many_keys" | "shutting_down", message: string) {
    this.counters.rejected++;
    return new ProtocolError(name, message);
  }
}
