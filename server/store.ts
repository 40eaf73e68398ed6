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
  | { readonly kind: "shutting_down" }
  /** A shared broker (Redis) could not be asked, and the request could not wait for it (timeout 0). */
  | { readonly kind: "broker_unavailable" };

export const TIMEOUT: Outcome = Object.freeze({ kind: "timeout" });
export const SHUTTING_DOWN: Outcome = Object.freeze({ kind: "shutting_down" });
export const BROKER_UNAVAILABLE: Outcome = Object.freeze({ kind: "broker_unavailable" });

/** What a shared broker's read found for a waiter: the value to answer with, or nothing newer. */
export interface Found {
  readonly notification: Notification;
  readonly compacted: boolean;
}

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
  /**
   * A shared broker's read for it is in flight (parked first, then read: see park()). Wakes that come
   * meanwhile are held in `held`, not delivered, so a cursor is answered with the oldest value it
   * has not seen (the read's), not a newer one that happened to arrive first.
   */
  reading = false;
  held: Notification | undefined = undefined;
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
  /** Keys held: with a value or parked waiters (Redis broker: keys with waiters parked here). */
  keys: number;
  /** Live values (absent for the Redis broker: they live in Redis and are not counted per request). */
  values?: number;
  /** The newest version given out, for the whole server. */
  version: number;
  counters: StoreCounters;
  broker: {
    kind: "memory" | "redis";
    /** Redis: connected now (both the command and the subscriber connection). */
    connected?: boolean;
  };
}

/** The least time between two full sweeps forced by a full store (see sweepWhenFull). */
const FULL_SWEEP_INTERVAL_MS = 1_000;

/** The in-memory broker (see broker.ts): one process holds values, versions and waiters. */
export class Store {
  readonly kind = "memory";
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
    return this.parkWaiter(req, existing, deliver, context, true);
  }

  private parkWaiter(
    req: GetRequest,
    existing: Entry | undefined,
    deliver: Deliver,
    context: unknown,
    timed: boolean,
  ): Waiter {
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
    const waiter = new Waiter(entry, req.since ?? -1, deliver, context);
    if (timed) waiter.timer = this.clock.setTimeout(() => this.expireWaiter(waiter), req.timeoutS * 1000);
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
    this.liveValue(entry); // an expired value's history goes before the new value joins it
    const notification: Notification = { key: req.key, value: req.value, version: ++this.version };
    entry.value = notification;
    entry.history.push(notification);
    if (entry.history.length > this.limits.maxHistory) {
      entry.compactedVersion = (entry.history.shift() as Notification).version;
    }
    entry.expiresAtMs = this.clock.now() + req.expiredS * 1000;
    const woken = this.wakeEntry(entry, notification);
    this.dropIfIdle(entry);
    return { version: notification.version, woken };
  }

  // ---- Parking for a shared broker (Redis): values live there, waiters here. ----

  /**
   * Park a /get without looking at values (a shared broker holds them): the caller reads the broker
   * next and calls settle() with what it found. Parking first closes the race with a /set on another
   * process: a wake that lands between the park and the read's answer is held, not lost. With
   * timeout 0 the waiter has no timer: settle() answers it either way. Limits apply as in get().
   */
  park(req: GetRequest, deliver: Deliver, context?: unknown): Waiter {
    this.counters.gets++;
    if (this.closed) throw this.refuse("shutting_down", SHUTTING_DOWN_MESSAGE);
    const waiter = this.parkWaiter(req, this.entries.get(req.key), deliver, context, req.timeoutS > 0);
    waiter.reading = true;
    return waiter;
  }

  /**
   * The broker's read for a parked waiter answered (found: a value newer than its cursor, or
   * undefined), or failed (the broker is unreachable: it stays parked for the catch-up after
   * reconnecting, unless it has timeout 0). A no-op for a waiter no longer parked.
   */
  settle(waiter: Waiter, found: Found | undefined, failed = false): void {
    waiter.reading = false;
    const held = waiter.held;
    waiter.held = undefined;
    if (!waiter.entry.waiters.has(waiter)) return;
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

  /** A value stored elsewhere (the broker's notification): wake this process's waiters of its key. */
  wake(notification: Notification): number {
    const entry = this.entries.get(notification.key);
    if (entry === undefined) return 0;
    const woken = this.wakeEntry(entry, notification);
    this.dropIfIdle(entry);
    return woken;
  }

  /** Every parked waiter not waiting for a read: the catch-up after the broker comes back. */
  *parkedWaiters(): IterableIterator<Waiter> {
    for (const entry of this.entries.values()) {
      for (const waiter of entry.waiters) if (!waiter.reading) yield waiter;
    }
  }

  /** A /set served by a shared broker: counted here; refused once shutting down. */
  noteSet(): void {
    this.counters.sets++;
    if (this.closed) throw this.refuse("shutting_down", SHUTTING_DOWN_MESSAGE);
  }

  /** A /clear served by a shared broker: counted here. */
  noteClear(): void {
    this.counters.clears++;
  }

  /** Is this waiter still parked here? */
  isParked(waiter: Waiter): boolean {
    return waiter.entry.waiters.has(waiter);
  }

  /** The number of parked waiters. */
  parkedCount(): number {
    return this.waiterCount;
  }

  private wakeEntry(entry: Entry, notification: Notification): number {
    const outcome: Outcome = { kind: "value", notification };
    let woken = 0;
    for (const waiter of entry.waiters) {
      if (waiter.since >= notification.version) continue; // a cursor from the future keeps waiting
      if (waiter.reading) {
        waiter.held ??= notification; // the first wake after the read; settle() decides
        continue;
      }
      this.clock.clearTimeout(waiter.timer);
      entry.waiters.delete(waiter);
      this.waiterCount--;
      woken++;
      waiter.deliver(outcome, waiter.context);
    }
    this.counters.wakes += woken;
    return woken;
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
      broker: { kind: "memory" },
    };
  }

  /** Nothing to release: the memory broker holds no connections. */
  close(): Promise<void> {
    return Promise.resolve();
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
