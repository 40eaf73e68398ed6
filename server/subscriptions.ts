// One WebSocket connection's subscriptions, whatever carries its frames: the front's own codec on
// raw sockets (front/websocket-frames.ts) or the `ws` package behind fastify (websocket.ts). The
// protocol: text messages {"subscribe":"K","since":N} (since optional: the present value, if any,
// then every later one) and {"unsubscribe":"K"}; each value a text message
// {"key":K,"version":V,"value":...} ("compacted":true where values between the cursor and this one
// were dropped); a message the server cannot take is answered {"error":NAME,"message":...} and the
// connection stays.
//
// Each subscription is follow.ts's loop, so it counts as one parked waiter and has /get's limits,
// history, Redis wakes and shutdown: at shutdown the socket is closed with 1001 "shutting_down"; with
// the shared broker unreachable, 1011 "broker_unavailable" (reconnect and subscribe with since).

import type { Broker, Notification } from "./broker.ts";
import { type Follow, follow } from "./follow.ts";
import { type ParamLimits, type Params, ProtocolError, parseGet } from "./protocol.ts";

/** Subscriptions one connection may hold (each is a parked waiter; the broker's limits apply too). */
export const MAX_SUBSCRIPTIONS_PER_SOCKET = 1_000;

/** What a connection's carrier does for its subscriptions. */
export interface SocketSide {
  /** Send a value's message (shared by every subscriber of the notification); false: the socket is gone or cut. */
  sendValue(n: Notification, compacted: boolean): boolean;
  /** Send any other text message; false: gone or cut. */
  sendText(text: string): boolean;
  /** The connection is idle: a ping. */
  ping(): boolean;
  close(code: number, reason: string): void;
}

// One notification wakes every subscriber of its key: its message text is built once.
let lastNotification: Notification | undefined;
let lastText = "";
/** A value's message text, built once per notification for all its subscribers. */
export function valueMessage(n: Notification, compacted: boolean): string {
  if (compacted) return JSON.stringify({ key: n.key, version: n.version, value: n.value, compacted: true });
  if (n !== lastNotification) {
    lastNotification = n;
    lastText = JSON.stringify({ key: n.key, version: n.version, value: n.value });
  }
  return lastText;
}

export class Subscriptions {
  private readonly follows = new Map<string, Follow>();
  private ended = false;

  constructor(
    private readonly broker: Broker,
    private readonly limits: ParamLimits,
    private readonly side: SocketSide,
  ) {}

  get count(): number {
    return this.follows.size;
  }

  subscribe(key: string, since: number | undefined): void {
    if (this.ended) return;
    if (this.follows.has(key)) {
      this.side.sendText(
        JSON.stringify({ key, error: "invalid_input", message: `already subscribed to "${key}"` }),
      );
      return;
    }
    if (this.follows.size >= MAX_SUBSCRIPTIONS_PER_SOCKET) {
      this.side.sendText(
        JSON.stringify({
          key,
          error: "overloaded",
          message: `one connection holds at most ${MAX_SUBSCRIPTIONS_PER_SOCKET} subscriptions; open another`,
        }),
      );
      return;
    }
    let active = true;
    const f = follow(this.broker, key, since, (e) => {
      if (this.ended) return false;
      switch (e.kind) {
        case "value":
          return this.side.sendValue(e.notification, e.compacted) || this.gone();
        case "keep-alive":
          return this.side.ping() || this.gone();
        case "end":
          active = false;
          this.follows.delete(key);
          if (e.reason === "shutting_down") this.end(1001, "shutting_down");
          else if (e.reason === "broker_unavailable") this.end(1011, "broker_unavailable");
          else
            this.side.sendText(
              JSON.stringify({ key, error: e.reason, message: `subscription to "${key}" refused` }),
            );
          return false;
      }
    });
    if (active) this.follows.set(key, f); // (a refusal at once ended it already)
  }

  /** A text message from the client (undefined: a binary one, which the protocol does not take). */
  message(text: string | undefined): void {
    if (this.ended) return;
    let request: { key: string; since: number | undefined; unsubscribe: boolean };
    try {
      request = clientRequest(text, this.limits);
    } catch (error) {
      const name = error instanceof ProtocolError ? error.errorName : "invalid_input";
      this.side.sendText(JSON.stringify({ error: name, message: (error as Error).message }));
      return;
    }
    if (request.unsubscribe) {
      this.follows.get(request.key)?.stop();
      this.follows.delete(request.key);
    } else this.subscribe(request.key, request.since);
  }

  /** The server shuts down: a connection with no subscription (none will end it) is closed now. */
  shutdown(): void {
    if (this.follows.size === 0) this.end(1001, "shutting_down");
  }

  /** The socket went away: every subscription leaves the broker at once. */
  closed(): void {
    this.ended = true;
    this.stopAll();
  }

  /** End the connection with a close frame. */
  end(code: number, reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.stopAll();
    this.side.close(code, reason);
  }

  /** The carrier could not send (gone or cut): stop everything; the follow that asked stops itself. */
  private gone(): false {
    this.ended = true;
    this.stopAll();
    return false;
  }

  private stopAll(): void {
    for (const f of this.follows.values()) f.stop();
    this.follows.clear();
  }
}

/** A client's text message: {"subscribe":K,"since":N} or {"unsubscribe":K}. */
function clientRequest(
  text: string | undefined,
  limits: ParamLimits,
): { key: string; since: number | undefined; unsubscribe: boolean } {
  const usage = 'send {"subscribe":"KEY","since":VERSION} (since optional) or {"unsubscribe":"KEY"} as text';
  if (text === undefined) throw new ProtocolError("invalid_input", `binary messages are not taken; ${usage}`);
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    throw new ProtocolError("invalid_input", `not JSON; ${usage}`);
  }
  if (typeof message !== "object" || message === null) throw new ProtocolError("invalid_input", usage);
  const m = message as Record<string, unknown>;
  const unsubscribe = m.unsubscribe !== undefined;
  const key = unsubscribe ? m.unsubscribe : m.subscribe;
  if (typeof key !== "string") throw new ProtocolError("invalid_input", usage);
  const params: Params = { key };
  if (!unsubscribe && m.since !== undefined) params.since = String(m.since);
  const get = parseGet(params, limits);
  return { key: get.key, since: get.since, unsubscribe };
}

/** The first subscription of an upgrade's query (?key=K&since=N), or undefined; throws ProtocolError on a bad one. */
export function querySubscription(
  query: Params,
  limits: ParamLimits,
): { key: string; since: number | undefined } | undefined {
  if (query.key === undefined) return undefined;
  const get = parseGet(query, limits);
  return { key: get.key, since: get.since };
}
