// GET /sse?key=K[&since=N] (or the Last-Event-ID header): K's values as Server-Sent Events, each
// `id: <version>` and `data: <value>`, every value after the cursor, in order, for as long as the
// client stays connected. A reconnect with Last-Event-ID resumes where it left off, from the key's
// kept history (--history values; older is said with an `event: compacted`).
//
// Why it is small: a stream is a parked /get that parks again after each event, with the last
// version sent as its cursor. So it has what /get has, on both brokers: the history, the limits
// (each stream is one parked waiter), Redis wakes across processes, and shutdown (the stream gets
// `event: shutting_down` and ends). A comment line every KEEPALIVE_S keeps proxies from cutting an
// idle stream; a client that does not read is cut once MAX_UNSENT_BYTES wait unsent.

import type { ServerResponse } from "node:http";
import { type Broker, type Outcome, Waiter } from "./broker.ts";
import { type GetRequest, ProtocolError } from "./protocol.ts";

/** How long a stream waits before a keep-alive comment (and parks again). */
export const KEEPALIVE_S = 15;
/** A client this far behind in reading is cut: the server holds no more for it. */
export const MAX_UNSENT_BYTES = 1 << 20;

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
  let since = req.since;
  let waiter: Waiter | undefined;
  let ended = false;
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    "x-accel-buffering": "no",
  });
  res.flushHeaders();
  const end = (last?: string) => {
    if (ended) return;
    ended = true;
    if (waiter !== undefined) broker.cancel(waiter);
    waiter = undefined;
    if (last !== undefined && !res.destroyed) res.end(last);
    else res.destroy();
  };
  const send = (text: string): boolean => {
    if (res.destroyed) return false;
    res.write(text);
    if (res.writableLength > MAX_UNSENT_BYTES) {
      end(); // a client that does not read: cut, as any other connection that holds too much
      return false;
    }
    return true;
  };
  const onOutcome = (outcome: Outcome) => {
    waiter = undefined;
    if (ended) return;
    switch (outcome.kind) {
      case "value": {
        const n = outcome.notification;
        if (outcome.compacted && !send("event: compacted\ndata: values before this one were dropped\n\n"))
          return;
        if (!send(event(n.version, n.value))) return;
        since = n.version;
        break;
      }
      case "timeout":
        if (!send(": keep-alive\n\n")) return;
        break;
      case "shutting_down":
        end("event: shutting_down\ndata: the server is shutting down\n\n");
        return;
      case "broker_unavailable":
        end(
          "event: broker_unavailable\ndata: the shared broker cannot be reached; reconnect with Last-Event-ID\n\n",
        );
        return;
    }
    // Parked again from a microtask: not from inside the broker's wake of this key.
    queueMicrotask(park);
  };
  const park = () => {
    if (ended) return;
    let outcome: Outcome | Waiter;
    try {
      outcome = broker.get({ key: req.key, timeoutS: KEEPALIVE_S, since }, (o) => onOutcome(o));
    } catch (error) {
      const name = error instanceof ProtocolError ? error.errorName : "internal_error";
      end(`event: error\ndata: ${name}\n\n`);
      return;
    }
    if (outcome instanceof Waiter) waiter = outcome;
    else onOutcome(outcome);
  };
  res.on("close", () => end());
  park();
}
