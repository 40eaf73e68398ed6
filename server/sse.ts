// GET /sse?key=K[&since=N] (or the Last-Event-ID header): K's values as Server-Sent Events, each
// `id: <version>` and `data: <value>`, every value after the cursor, in order, for as long as the
// client stays connected. A reconnect with Last-Event-ID resumes where it left off, from the key's
// kept history (--history values; older is said with an `event: compacted`).
//
// The stream is follow.ts's loop (a parked /get that parks again after each event), so history,
// limits, Redis wakes and shutdown (`event: shutting_down`, then the end) are /get's. A comment line
// every KEEPALIVE_S keeps proxies from cutting an idle stream; a client that does not read is cut
// once MAX_UNSENT_BYTES wait unsent.

import type { ServerResponse } from "node:http";
import type { Broker } from "./broker.ts";
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
const event = (version: number, value: string): string =>
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
        if (e.compacted && !send("event: compacted\ndata: values before this one were dropped\n\n"))
          return false;
        return send(event(e.notification.version, e.notification.value));
      case "keep-alive":
        return send(": keep-alive\n\n");
      case "end": {
        const text =
          e.reason === "shutting_down"
            ? "event: shutting_down\ndata: the server is shutting down\n\n"
            : e.reason === "broker_unavailable"
              ? "event: broker_unavailable\ndata: the shared broker cannot be reached; reconnect with Last-Event-ID\n\n"
              : `event: error\ndata: ${e.reason}\n\n`;
        if (!res.destroyed) res.end(text);
        return false;
      }
    }
  });
  res.on("close", () => stream.stop());
}
