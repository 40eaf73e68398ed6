// GET /ws[?key=K[&since=N]] upgraded to a WebSocket: the values of the keys a client subscribes to,
// each a text message `{"key":K,"version":V,"value":...}` (with `"compacted":true` where values
// between the cursor and this one were dropped from the kept history).
//
// Subscribing: the query's key at the upgrade, and any time after with a text message
// `{"subscribe":"K","since":N}` (since optional: the present value, if any, then every later one); `{"unsubscribe":"K"}` stops.
// A client that reconnects subscribes with the last version it saw as `since` and misses nothing the
// history kept. A message the server cannot take is answered `{"error":NAME,"message":...}`, and the
// connection stays.
//
// Each subscription is follow.ts's loop, so it counts as one parked waiter and has /get's limits,
// history, Redis wakes and shutdown: at shutdown the socket is closed with 1001 "shutting_down"; with
// the shared broker unreachable, 1011 "broker_unavailable" (reconnect and subscribe with since). An
// idle socket is pinged every KEEPALIVE_S. A client that does not read is cut once MAX_UNSENT_BYTES
// wait unsent, as an event stream is.
//
// The frame codec is the `ws` package's (the handshake, masking, fragments, UTF-8 checks and close
// codes are easy to get subtly wrong); the fan-out's cost is framing each message once per socket.

import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import type { Broker, Notification } from "./broker.ts";
import { type Follow, follow, MAX_UNSENT_BYTES } from "./follow.ts";
import { type ParamLimits, type Params, ProtocolError, parseGet } from "./protocol.ts";

/** Subscriptions one connection may hold (each is a parked waiter; the broker's limits apply too). */
export const MAX_SUBSCRIPTIONS_PER_SOCKET = 1_000;
/** A client's message is a subscribe or unsubscribe: a few hundred bytes. */
const MAX_CLIENT_MESSAGE_BYTES = 64 * 1024;

export interface WebSocketEndpoint {
  /** Take an HTTP upgrade request for /ws (anything else answered 404, or 503 when closing). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Stop taking upgrades (the server is shutting down); open sockets end through their follows. */
  close(): void;
}

export function webSocketEndpoint(broker: Broker, limits: ParamLimits): WebSocketEndpoint {
  const server = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false, // the harness measures the transport, not compression
    maxPayload: MAX_CLIENT_MESSAGE_BYTES,
    clientTracking: false,
  });
  let closing = false;
  // One notification wakes every subscriber of its key: its message text is built once.
  let lastNotification: Notification | undefined;
  let lastText = "";
  const messageOf = (n: Notification, compacted: boolean): string => {
    if (compacted) return JSON.stringify({ key: n.key, version: n.version, value: n.value, compacted: true });
    if (n !== lastNotification) {
      lastNotification = n;
      lastText = JSON.stringify({ key: n.key, version: n.version, value: n.value });
    }
    return lastText;
  };

  const refuse = (socket: Duplex, status: number, message: string) => {
    const body = JSON.stringify({ error: status === 404 ? "not_found" : "shutting_down", message });
    socket.end(
      `HTTP/1.1 ${status} ${status === 404 ? "Not Found" : "Service Unavailable"}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  };

  const serve = (ws: WebSocket, first: { key: string; since: number | undefined } | undefined) => {
    const follows = new Map<string, Follow>();
    let ended = false;
    const end = (code: number, reason: string) => {
      if (ended) return;
      ended = true;
      for (const f of follows.values()) f.stop();
      follows.clear();
      ws.close(code, reason);
    };
    const sendText = (text: string): boolean => {
      if (ended || ws.readyState !== ws.OPEN) return false;
      ws.send(text);
      if (ws.bufferedAmount <= MAX_UNSENT_BYTES) return true;
      ended = true;
      for (const f of follows.values()) f.stop();
      follows.clear();
      ws.terminate(); // a client that does not read: cut
      return false;
    };
    const subscribe = (key: string, since: number | undefined) => {
      if (follows.has(key)) {
        sendText(JSON.stringify({ key, error: "invalid_input", message: `already subscribed to "${key}"` }));
        return;
      }
      if (follows.size >= MAX_SUBSCRIPTIONS_PER_SOCKET) {
        sendText(
          JSON.stringify({
            key,
            error: "overloaded",
            message: `one connection holds at most ${MAX_SUBSCRIPTIONS_PER_SOCKET} subscriptions; open another`,
          }),
        );
        return;
      }
      let active = true;
      const f = follow(broker, key, since, (e) => {
        switch (e.kind) {
          case "value":
            return sendText(messageOf(e.notification, e.compacted));
          case "keep-alive":
            if (ended || ws.readyState !== ws.OPEN) return false;
            ws.ping();
            return true;
          case "end":
            active = false;
            follows.delete(key);
            if (e.reason === "shutting_down") end(1001, "shutting_down");
            else if (e.reason === "broker_unavailable") end(1011, "broker_unavailable");
            else
              sendText(JSON.stringify({ key, error: e.reason, message: `subscription to "${key}" refused` }));
            return false;
        }
      });
      if (active) follows.set(key, f); // (a refusal at once ended it already)
    };
    ws.on("message", (data, isBinary) => {
      if (ended) return;
      let request: { key: string; since: number | undefined; unsubscribe: boolean };
      try {
        request = clientRequest(isBinary ? undefined : data.toString(), limits);
      } catch (error) {
        const name = error instanceof ProtocolError ? error.errorName : "invalid_input";
        sendText(JSON.stringify({ error: name, message: (error as Error).message }));
        return;
      }
      if (request.unsubscribe) {
        follows.get(request.key)?.stop();
        follows.delete(request.key);
      } else subscribe(request.key, request.since);
    });
    ws.on("close", () => {
      ended = true;
      for (const f of follows.values()) f.stop();
      follows.clear();
    });
    ws.on("error", () => ws.terminate()); // a protocol error from the client: its socket goes
    if (first !== undefined) subscribe(first.key, first.since);
  };

  return {
    upgrade(req, socket, head) {
      const url = new URL(req.url ?? "/", "http://x");
      if (url.pathname !== "/ws")
        return refuse(socket, 404, `no WebSocket endpoint at ${url.pathname}; use /ws`);
      if (closing) return refuse(socket, 503, "the server is shutting down");
      let first: { key: string; since: number | undefined } | undefined;
      if (url.searchParams.has("key")) {
        try {
          const params = Object.fromEntries(url.searchParams) as Params;
          const get = parseGet(params, limits);
          first = { key: get.key, since: get.since };
        } catch (error) {
          const body = JSON.stringify({ error: "invalid_input", message: (error as Error).message });
          socket.end(
            `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
          );
          return;
        }
      }
      server.handleUpgrade(req, socket, head, (ws) => serve(ws, first));
    },
    close() {
      closing = true;
    },
  };
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
