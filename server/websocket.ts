// GET /ws[?key=K[&since=N]] upgraded to a WebSocket: the values of the keys a client subscribes to
// (the protocol: subscriptions.ts). Two carriers serve it: the front (front/front.ts) takes the plain
// shape of the upgrade on its raw sockets with its own frame codec (front/websocket-frames.ts), and
// this module takes anything else that reaches fastify's server, with the `ws` package's codec (it
// handles every shape of handshake and frame the standard allows, so odd clients still work).
//
// A client that does not read is cut once MAX_UNSENT_BYTES wait unsent, as an event stream is.

import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import type { Broker } from "./broker.ts";
import { MAX_UNSENT_BYTES } from "./follow.ts";
import { type ParamLimits, type Params, ProtocolError } from "./protocol.ts";
import { querySubscription, Subscriptions, valueMessage } from "./subscriptions.ts";

/** A client's message is a subscribe or unsubscribe: a few hundred bytes. */
export const MAX_CLIENT_MESSAGE_BYTES = 64 * 1024;

export interface WebSocketEndpoint {
  /** Take an HTTP upgrade request for /ws (anything else answered 404, or 503 when closing). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Stop taking upgrades and close the open sockets that have no subscription to end them. */
  close(): void;
}

/** A plain HTTP answer to an upgrade that is refused, then the connection closed. */
export function refusal(status: number, error: string, message: string): string {
  const body = JSON.stringify({ error, message });
  const reason = status === 404 ? "Not Found" : status === 400 ? "Bad Request" : "Service Unavailable";
  return `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}

export function webSocketEndpoint(broker: Broker, limits: ParamLimits): WebSocketEndpoint {
  const server = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false, // the harness measures the transport, not compression
    maxPayload: MAX_CLIENT_MESSAGE_BYTES,
    clientTracking: false,
  });
  let closing = false;
  const open = new Set<Subscriptions>();

  const serve = (ws: WebSocket, first: { key: string; since: number | undefined } | undefined) => {
    const subs: Subscriptions = new Subscriptions(broker, limits, {
      sendValue: (n, compacted) => send(valueMessage(n, compacted)),
      sendText: (text) => send(text),
      ping: () => {
        if (ws.readyState !== ws.OPEN) return false;
        ws.ping();
        return true;
      },
      close: (code, reason) => ws.close(code, reason),
    });
    const send = (text: string): boolean => {
      if (ws.readyState !== ws.OPEN) return false;
      ws.send(text);
      if (ws.bufferedAmount <= MAX_UNSENT_BYTES) return true;
      ws.terminate(); // a client that does not read: cut
      return false;
    };
    open.add(subs);
    ws.on("message", (data, isBinary) => subs.message(isBinary ? undefined : data.toString()));
    ws.on("close", () => {
      open.delete(subs);
      subs.closed();
    });
    ws.on("error", () => ws.terminate()); // a protocol error from the client: its socket goes
    if (first !== undefined) subs.subscribe(first.key, first.since);
  };

  return {
    upgrade(req, socket, head) {
      const url = new URL(req.url ?? "/", "http://x");
      if (url.pathname !== "/ws")
        return void socket.end(
          refusal(404, "not_found", `no WebSocket endpoint at ${url.pathname}; use /ws`),
        );
      if (closing) return void socket.end(refusal(503, "shutting_down", "the server is shutting down"));
      let first: { key: string; since: number | undefined } | undefined;
      try {
        first = querySubscription(Object.fromEntries(url.searchParams) as Params, limits);
      } catch (error) {
        const name = error instanceof ProtocolError ? error.errorName : "invalid_input";
        return void socket.end(refusal(400, name, (error as Error).message));
      }
      server.handleUpgrade(req, socket, head, (ws) => serve(ws, first));
    },
    close() {
      closing = true;
      for (const subs of open) subs.shutdown();
    },
  };
}
