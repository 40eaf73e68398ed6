// GET /sse?key=K[&since=N] (or the Last-Event-ID header): K's values as Server-Sent Events, each
// `id: <version>` and `data: <value>`, every value after the cursor, in order, for as long as the
// client stays connected. A reconnect with Last-Event-ID resumes where it left off, from the key's
// kept history (--history values; older is said with an `event: compacted`).
//
// The stream is follow.ts's loop (a parked /get that parks again after each event), so history,
// limits, Redis wakes and shutdown (`event: shutting_down`, then the end) are /get's. A comment line
// every KEEPALIVE_S keeps proxies from cutting an idle stream; a client that does not read is cut
// once MAX_UNSENT_BYTES wait unsent.
//
// Two paths serve it: the front (front/front.ts) serves the plain shape of the request on its raw
// sockets, writing each event as one chunk built once per value for every subscriber of the key
// (eventChunk); anything else reaches fastify and serveStream below, through Node's response.

import type { ServerResponse } from "node:http";
import type { Broker, Notification } from "./broker.ts";
import { follow, MAX_UNSENT_BYTES } from "./follow.ts";
import { type GetRequest, ProtocolError } from "./protocol.ts";

/** The cursor of a new stream: `since` in the query, else Last-Event-ID, else none (future values). */
export function streamCursor(
  since: number | undefined,
  lastEventId: string | string[] | undefined,
): number | undefined {
  if (since !== undefined) return since;
  if (typeof lastEventId !== "string" || lastEventId === "") return undefined;
  const n = Number(lastEventId);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new ProtocolError(
      "invalid_input",
      `Last-Event-ID must be a version this server sent (an integer), got "${lastEventId}"`,
    );
  return n;
}

/** One event; a value with line breaks is sent as one data line per line, as the format requires. */
export const event = (version: number, value: string): string =>
  `id: ${version}\n${value
    .split(/\r\n|\r|\n/)
    .map((line) => `data: ${line}`)
    .join("\n")}\n\n`;

/**
 * Serve one stream on a response whose head has not been written. `req` carries the key and cursor
 * (already checked: a bad request was refused before this).
 */
export function serveStream(broker: Broker, res: ServerResponse, req: GetRequest): void {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    "x-accel-buffering": "no",
  });
  res.flushHeaders();
  const send = (text: string): boolean => {
    if (res.destroyed) return false;
    res.write(text);
    if (res.writableLength <= MAX_UNSENT_BYTES) return true;
    res.destroy(); // a client that does not read: cut, as any other connection that holds too much
    return false;
  };
  const stream = follow(broker, req.key, req.since, (e) => {
    switch (e.kind) {
      case "value":
        if (e.compacted && !send(COMPACTED_EVENT)) return false;
        return send(event(e.notification.version, e.notification.value));
      case "keep-alive":
        return send(": keep-alive\n\n");
      case "end":
        if (!res.destroyed) res.end(endEvent(e.reason));
        return false;
    }
  });
  res.on("close", () => stream.stop());
}

/** The texts of the events that end a stream, by the follow's end reason. */
export function endEvent(reason: string): string {
  if (reason === "shutting_down") return "event: shutting_down\ndata: the server is shutting down\n\n";
  if (reason === "broker_unavailable")
    return "event: broker_unavailable\ndata: the shared broker cannot be reached; reconnect with Last-Event-ID\n\n";
  return `event: error\ndata: ${reason}\n\n`;
}

export const COMPACTED_EVENT = "event: compacted\ndata: values before this one were dropped\n\n";

/** One piece of a chunked body (HTTP/1.1 chunked transfer coding). */
export function chunk(text: string): Buffer {
  const body = Buffer.from(text);
  return Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, CRLF]);
}
const CRLF = Buffer.from("\r\n");

/** The head of a stream served on a raw socket: chunked, kept alive. */
export const STREAM_HEAD = Buffer.from(
  "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\ncache-control: no-store\r\nx-accel-buffering: no\r\ntransfer-encoding: chunked\r\nconnection: keep-alive\r\n\r\n",
);
export const KEEPALIVE_CHUNK = chunk(": keep-alive\n\n");
export const LAST_CHUNK = Buffer.from("0\r\n\r\n");

// One value wakes every subscriber of its key at once: its chunk is built for the first and reused.
let lastNotification: Notification | undefined;
let lastChunk: Buffer = LAST_CHUNK;

/** A value's event as a chunk, shared by every subscriber it is sent to (compacted: with the notice). */
export function eventChunk(n: Notification, compacted: boolean): Buffer {
  if (compacted) return chunk(COMPACTED_EVENT + event(n.version, n.value));
  if (n !== lastNotification) {
    lastNotification = n;
    lastChunk = chunk(event(n.version, n.value));
  }
  return lastChunk;
}
