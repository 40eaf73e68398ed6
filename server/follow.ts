// Following a key: every value after a cursor, in order, for as long as the follower wants them. The
// push transports (sse.ts: Server-Sent Events; websocket.ts: WebSocket) are each a few lines of
// framing around this loop.
//
// Why a loop of parked /gets: a follow is a /get that parks again after each value with the last
// version sent as its cursor. So it has what /get has, on both brokers: the history (a follower that
// was slow or reconnects gets every kept value after its cursor), the limits (each follow is one
// parked waiter, counted in /stats and refused like one), Redis wakes across processes, and shutdown.
// Each park waits at most KEEPALIVE_S, so a transport can send a keep-alive on an idle stream.

import { type Broker, type Deliver, type Notification, type Outcome, Waiter } from "./broker.ts";
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
 * Follow `key` from `since` (undefined: the key's present value, if it has one, then every later one).
 * `onEvent` returns false when the transport could not send (its client is gone or too far behind):
 * the follow then stops. After an `end` event nothing more comes.
 */
export function follow(
  broker: Broker,
  key: string,
  since: number | undefined,
  onEvent: (event: FollowEvent) => boolean,
): Follow {
  const f = new Follower(broker, key, since, onEvent);
  f.park();
  return f;
}

/** The broker's wake of a follower's waiter (the waiter's context is the follower): one function for all. */
const deliverToFollower: Deliver = (outcome, context) => (context as Follower).outcome(outcome);

// A class, not closures: tens of thousands of follows are held at once, and each costs its fields and
// one bound function (parkAgain) rather than a closure per step.
class Follower implements Follow {
  private waiter: Waiter | undefined = undefined;
  private stopped = false;
  private readonly parkAgain = () => this.park();

  constructor(
    private readonly broker: Broker,
    private readonly key: string,
    private cursor: number | undefined,
    private readonly onEvent: (event: FollowEvent) => boolean,
  ) {}

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.waiter !== undefined) this.broker.cancel(this.waiter);
    this.waiter = undefined;
  }

  park(): void {
    if (this.stopped) return;
    let outcome: Outcome | Waiter;
    try {
      outcome = this.broker.get(
        { key: this.key, timeoutS: KEEPALIVE_S, since: this.cursor },
        deliverToFollower,
        this,
      );
    } catch (error) {
      this.finish(error instanceof ProtocolError ? error.errorName : "internal_error");
      return;
    }
    if (outcome instanceof Waiter) this.waiter = outcome;
    else this.outcome(outcome);
  }

  outcome(outcome: Outcome): void {
    this.waiter = undefined;
    if (this.stopped) return;
    let sent: boolean;
    switch (outcome.kind) {
      case "value": {
        const n = outcome.notification;
        sent = this.onEvent({ kind: "value", notification: n, compacted: outcome.compacted === true });
        if (sent) this.cursor = n.version;
        break;
      }
      case "timeout":
        sent = this.onEvent({ kind: "keep-alive" });
        break;
      case "shutting_down":
      case "broker_unavailable":
        this.finish(outcome.kind);
        return;
    }
    if (!sent) this.stop();
    // Parked again from a microtask: not from inside the broker's wake of this key.
    else queueMicrotask(this.parkAgain);
  }

  private finish(reason: string): void {
    this.stop();
    this.onEvent({ kind: "end", reason });
  }
}
