// Where values live and how a /set reaches the waiters: the one interface the HTTP layer (app.ts,
// front/front.ts) talks to, and the types every broker shares. Two implementations:
//   - memory (memory-broker.ts): one process holds values, versions and waiters; the default, with
//     nothing to install;
//   - redis (redis/redis-broker.ts): values, versions and history in Redis, shared by every process
//     and host; each process parks its own waiters and is woken through Redis pub/sub.
// Waiters are always local (a parked /get is a socket of this process): both brokers park them in
// a parking lot (parking-lot.ts); only values are shared.

import type { TimerHandle } from "./clock.ts";
import type { ClearRequest, GetRequest, SetRequest } from "./protocol.ts";

/** A figure that may be ready now (memory) or after a round trip (Redis). */
export type MaybePromise<T> = T | Promise<T>;

export interface BrokerLimits {
  maxWaiters: number;
  maxWaitersPerKey: number;
  /** Keys held (memory: with a value or parked waiters; Redis: with waiters parked in this process). */
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

/** The parked waiters of one key (the parking lot's). */
export interface WaiterSlot extends Set<Waiter> {
  readonly key: string;
}

/** A parked /get. Opaque to callers: they hold it only to cancel it. */
export class Waiter {
  timer: TimerHandle = undefined;
  /** When its timeout ends (clock ms). */
  deadlineMs = 0;
  /**
   * A shared broker's read for it is in flight (parked first, then read: see parking-lot.ts). Wakes
   * that come meanwhile are held in `held`, not delivered, so a cursor is answered with the oldest
   * value it has not seen (the read's), not a newer one that happened to arrive first.
   */
  reading = false;
  held: Notification | undefined = undefined;
  constructor(
    /** The parked waiters of its key, itself among them while it is parked. */
    readonly slot: WaiterSlot,
    readonly since: number,
    readonly deliver: Deliver,
    readonly context: unknown,
  ) {}

  get key(): string {
    return this.slot.key;
  }
}

export interface BrokerCounters {
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

export const zeroCounters = (): BrokerCounters => ({
  gets: 0,
  sets: 0,
  clears: 0,
  immediate: 0,
  wakes: 0,
  timeouts: 0,
  disconnects: 0,
  rejected: 0,
});

export interface BrokerStats {
  waiters: number;
  /** Keys held: with a value or parked waiters (Redis broker: keys with waiters parked here). */
  keys: number;
  /** Live values (absent for the Redis broker: they live in Redis and are not counted per request). */
  values?: number;
  /** The newest version given out, for the whole server. */
  version: number;
  counters: BrokerCounters;
  broker: {
    kind: "memory" | "redis";
    /** Redis: connected now (both the command and the subscriber connection). */
    connected?: boolean;
  };
}

export interface Broker {
  readonly kind: "memory" | "redis";
  /**
   * Answer at once (an Outcome) or park (a Waiter; `deliver` is called exactly once later, unless
   * the waiter is cancelled or handed over). Throws ProtocolError when a limit refuses it.
   */
  get(req: GetRequest, deliver: Deliver, context?: unknown): Outcome | Waiter;
  /** The client went away: remove its waiter at once (a no-op for one already answered). */
  cancel(waiter: Waiter): void;
  /** Take a parked waiter out to park it again elsewhere; the request that does so, with its time left. */
  handOver(waiter: Waiter): GetRequest | undefined;
  /** Store a value and wake every parked waiter of its key (Redis: on every process). */
  set(req: SetRequest): MaybePromise<{ version: number }>;
  clear(req: ClearRequest): MaybePromise<{ cleared: number }>;
  stats(): MaybePromise<BrokerStats>;
  /** Parked waiters of this process, now (no round trip). */
  parkedCount(): number;
  /** Drop expired local state (the memory broker's keys); called every minute. */
  sweepExpired(): number;
  /** Answer every parked waiter with shutting_down and refuse new requests. */
  shutdown(): number;
  /** Release connections (Redis); after shutdown(). */
  close(): Promise<void>;
}
