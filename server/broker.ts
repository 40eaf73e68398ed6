// Where values live and how a /set reaches the waiters: the one interface the HTTP layer (app.ts,
// front/front.ts) talks to. Two implementations:
//   - memory (store.ts's Store): one process holds values, versions and waiters; the default, with
//     nothing to install;
//   - redis (redis/redis-broker.ts): values, versions and history in Redis, shared by every process
//     and host; each process parks its own waiters and is woken through Redis pub/sub.
// Waiters are always local (a parked /get is a socket of this process); only values are shared.

import type { ClearRequest, GetRequest, SetRequest } from "./protocol.ts";
import type { Deliver, Outcome, StoreStats, Waiter } from "./store.ts";

/** A figure that may be ready now (memory) or after a round trip (Redis). */
export type MaybePromise<T> = T | Promise<T>;

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
  stats(): MaybePromise<StoreStats>;
  /** Parked waiters of this process, now (no round trip). */
  parkedCount(): number;
  /** Drop expired local state (the memory broker's keys); called every minute. */
  sweepExpired(): number;
  /** Answer every parked waiter with shutting_down and refuse new requests. */
  shutdown(): number;
  /** Release connections (Redis); after shutdown(). */
  close(): Promise<void>;
}
