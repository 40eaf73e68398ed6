// The messages between the coordinator and a driver worker process (IPC, structured clone).
// Histograms travel encoded; the protocol travels as its profile (data); times travel as hrtime nanoseconds in decimal strings (CLOCK_MONOTONIC,
// the same clock in every process on the host).

import type { WorkerTimeline } from "../metrics/delivery-timeline.ts";
import type { Profile } from "../targets/profile.ts";
import type { Transport } from "../targets/transports.ts";

/** What a waiter does with its answers. */
export type WaiterMode =
  /** One answer per waiter: the value of one set. The socket stays open until the drain. */
  | { kind: "burst" }
  /**
   * Re-poll after every answer until the last message of the key was seen: with the cursor of the
   * last answer (the profile says where it is) or, for a target without one, on a fresh key per
   * message (`<key>-m<seq>`).
   */
  | {
      kind: "stream";
      cursor: boolean;
      messagesPerKey: number;
      /**
       * Drop the connection after this many messages and resume from the last cursor on a new one
       * (a subscriber that goes away and comes back); absent: never.
       */
      reconnectAfter?: number;
    }
  /** Expect a timeout answer; measure how late it comes. */
  | { kind: "timeout" };

export interface WorkerPlan {
  workerIndex: number;
  host: string;
  port: number;
  /** The target's protocol profile (plain data; the worker compiles it into its adapter). */
  profile: Profile;
  /** How waiters hear of values (absent: long-poll); a push transport is one connection per waiter. */
  transport?: Transport;
  mode: WaiterMode;
  /** The timeout each waiting request asks for, seconds. */
  waitTimeoutS: number;
  keys: string[];
  /** For each waiter of this worker: the index of its key in `keys`. */
  waiterKeys: number[];
  /** For each waiter: arrival offset in ms from the start of its arrival batch (non-decreasing in a batch). */
  offsetsMs: number[];
  /**
   * Local addresses to bind sockets to (source-addresses.ts: waiter n of the run gets its own
   * address and port); absent or empty: the kernel's choice.
   */
  sourceAddresses?: string[];
  /** Workers in the fleet: waiter i of this worker is waiter workerIndex + i × workers of the run. */
  workers?: number;
  /**
   * On an agent (another machine): nanoseconds to add to this host's hrtime to read the
   * coordinator's clock (its estimated offset), and for testing, an injected skew of this host's
   * own clock. Absent: the coordinator's host, one clock.
   */
  clock?: { adjustNs: string; skewNs: string };
}

export interface WorkerStatus {
  opened: number;
  connected: number;
  written: number;
  /** Values received (burst: the first per waiter; stream: each new message). */
  delivered: number;
  duplicates: number;
  /** Stream: messages that arrived after a later one. */
  outOfOrder: number;
  /** Stream: messages a waiter never saw (gaps, and the tail after its last one). */
  lost: number;
  /** Stream: the tail part of `lost` (messages after a waiter's last one: maybe not yet sent or due). */
  tail: number;
  /** Stream: waiters that have seen the last message of their key. */
  finished: number;
  timeouts: number;
  /** Timeout mode: timeout answers that came before the timeout. */
  early: number;
  errors: number;
  /** Churn: waiters aborted and opened again. */
  churned: number;
  /** Stream with reconnects: connections dropped on purpose and resumed from the cursor. */
  reconnects: number;
  /**
   * Burst: waiters whose /get was written after their value's scheduled send (they came after the
   * readiness barrier and got the stored value): delivered, but not in the latency, the timeline or
   * the time to the last delivery.
   */
  arrivedLate: number;
  /** The worker's own CPU time so far (user + system), µs: finer than /proc's 10 ms ticks. */
  cpuUs: number;
}

/** A status with every count at zero (a worker's start, and the sum's start). */
export function emptyStatus(): WorkerStatus {
  return {
    opened: 0,
    connected: 0,
    written: 0,
    delivered: 0,
    duplicates: 0,
    outOfOrder: 0,
    lost: 0,
    tail: 0,
    finished: 0,
    timeouts: 0,
    early: 0,
    errors: 0,
    churned: 0,
    reconnects: 0,
    arrivedLate: 0,
    cpuUs: 0,
  };
}

export interface WorkerResults extends WorkerStatus {
  /** Notification latency (arrival − scheduled send), µs. */
  latencyHistogram: string;
  /** TCP connect latency from the scheduled arrival, µs. */
  connectHistogram: string;
  /** Timeout answers: arrival − (request written + timeout), µs. */
  latenessHistogram: string;
  lastDeliveryNs: string | undefined;
  /** Deliveries per 10 ms of arrival (absent from workers of an older version, e.g. an agent's). */
  timeline?: WorkerTimeline;
  /** Error counts by reason ("ECONNRESET", "HTTP 503 overloaded", "closed before answer", ...). */
  errorReasons: Record<string, number>;
}

/** A request that expects one reply; the reply carries the same id (two calls of one type never cross). */
export type WorkerCall =
  | { type: "plan"; plan: WorkerPlan }
  /** Abort and reopen waiters round-robin at this rate until durationMs has passed; replies when done. */
  | { type: "churn"; perSecond: number; durationMs: number }
  | { type: "status" }
  /** Collect young garbage now, before a measured phase (see Fleet.collectGarbage). */
  | { type: "collect-garbage" }
  | { type: "results" }
  | { type: "close" };

export type ToWorker =
  | (WorkerCall & { id: number })
  /** Open waiters [from, to) on their offsets, counted from startAtNs (no reply; arrivals-done follows). */
  | { type: "start"; startAtNs: string; from: number; to: number };

/** The reply to each call, by the call's type. */
export interface WorkerReplies {
  plan: { type: "ready" };
  churn: { type: "churn-done" };
  status: { type: "status"; status: WorkerStatus };
  "collect-garbage": { type: "garbage-collected" };
  results: { type: "results"; results: WorkerResults };
  close: { type: "closed" };
}

export type WorkerReply = WorkerReplies[keyof WorkerReplies] & { id: number };

export type FromWorker =
  | WorkerReply
  | { type: "arrivals-done" }
  | { type: "sample"; eventLoopDelayMaxMs: number }
  | { type: "fatal"; message: string };
