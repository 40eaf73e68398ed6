// Following a key: every value after a cursor, in order, for as long as the follower wants them. The
// push transports (sse.ts: Server-Sent Events; websocket.ts: WebSocket) are each a few lines of
// framing around this loop.
//
// Why a loop of parked /gets: a follow is a /get that parks again after each value with the last
// version sent as its cursor. So it has what /get has, on both brokers: the history (a follower that
// was slow or reconnects gets every kept value after its cursor), the limits (each follow is one
// parked waiter, counted in /stats and refused like one), Redis wakes across processes, and shutdown.
// Each park waits at most KEEPALIVE_S, so a transport can send a keep-alive on an idle stream.

import { type Broker, type Notification, type Outcome, Waiter } from "./broker.ts";
import { ProtocolError } from "./protocol.ts";

/** How long a follow waits before telling the transport to keep the connection alive (and parks again). */
export const KEEPALIVE_S = 15;
/** A client this far behind in reading is cut: the server holds no more for it (either transport). */
export const MAX_UNSENT_BYTES = 1 << 20;

export type FollowEvent =
  /** A value after the cursor; compacted: values between the cursor and this one were dropped. */
  | { kind: "value"; notification: Notification; compacted: boolean }
  | { kind: "keep-alive" }
  /** The follow is over: the server shuts down, the shared broker is unreachable, or a limit refused it. */
  | { kind: "end"; reason: "shutting_down" | "broker_unavailable" | string };

export interface Follow {
  /** Stop following (the client went away, or unsubscribed); its waiter leaves the broker at once. */
  stop(): void;
}

/**
 * Follow `key` from `since` (undefined: the key's present value, if it has one, then every later one). `onEvent` returns false when the
 * transport could not send (its client is gone or too far behind): the follow then stops. After an
 * `end` event nothing more comes.
 */
export function follow(
  broker: Broker,
  key: string,
  since: number | undefined,
  onEvent: (event: FollowEvent) => boolean,
): Follow {
  let cursor = since;
  let waiter: Waiter | undefined;
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    if (waiter !== undefined) broker.cancel(waiter);
    waiter = undefined;
  };
  const finish = (reason: string) => {
    stop();
    onEvent({ kind: "end", reason });
  };
  const onOutcome = (outcome: Outcome) => {
    waiter = undefined;
    if (stopped) return;
    switch (outcome.kind) {
      case "value": {
        const n = outcome.notification;
        if (!onEvent({ kind: "value", notification: n, compacted: outcome.compacted === true }))
          return stop();
        cursor = n.version;
        break;
      }
      case "timeout":
        if (!onEvent({ kind: "keep-alive" })) return stop();
        break;
      case "shutting_down":
      case "broker_unavailable":
        return finish(outcome.kind);
    }
    // Parked again from a microtask: not from inside the broker's wake of this key.
    queueMicrotask(park);
  };
  const park = () => {
    if (stopped) return;
    let outcome: Outcome | Waiter;
    try {
      outcome = broker.get({ key, timeoutS: KEEPALIVE_S, since: cursor }, onOutcome);
    } catch (error) {
      finish(error instanceof ProtocolError ? error.errorName : "internal_error");
      return;
    }
    if (outcome instanceof Waiter) waiter = outcome;
    else onOutcome(outcome);
  };
  park();
  return { stop };
}
