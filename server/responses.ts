// Pre-built answers to /get, shared by both ways the server writes one: through Node's
// ServerResponse (fastify's connections) and as raw bytes on a socket (the front's fast path).
//
// A woken value is serialised once per notification and shared by every waiter it wakes (not once
// per waiter); its raw form (status line, headers and body in one Buffer, one write per waiter) is
// rebuilt only when the Date header's second changes.

import { STATUS_CODES } from "node:http";
import type { Notification, Outcome } from "./broker.ts";
import {
  BROKER_UNAVAILABLE_MESSAGE,
  ERRORS,
  type ErrorName,
  errorBody,
  SHUTTING_DOWN_MESSAGE,
  TIMEOUT_MESSAGE,
} from "./protocol.ts";

export const JSON_TYPE = "application/json; charset=utf-8";

/**
 * How long an idle keep-alive connection stays open, on both paths (fastify's own default, 72 s,
 * set explicitly so the raw path's `keep-alive: timeout=` hint and idle timer agree with it).
 */
export const KEEP_ALIVE_S = 72;

/** A response ready to write: status, a flat [name, value, ...] header list, and the body bytes. */
export interface Prebuilt {
  readonly status: number;
  readonly headers: string[];
  readonly body: Buffer;
  /** It closes the connection (its headers say `connection: close`). */
  readonly closes: boolean;
  /** The whole HTTP/1.1 response as bytes, for the Date second in `rawDate` (keep-alive form). */
  raw?: Buffer;
  rawDate?: string;
}

export function prebuild(status: number, json: string, closes = false): Prebuilt {
  const body = Buffer.from(json);
  const headers = ["content-type", JSON_TYPE, "content-length", String(body.length)];
  if (closes) headers.push("connection", "close");
  return { status, headers, body, closes };
}

export function errorResponse(name: ErrorName, message: string): Prebuilt {
  return prebuild(ERRORS[name].status, JSON.stringify(errorBody(name, message)), name === "shutting_down");
}

const TIMEOUT_RESPONSE = prebuild(200, JSON.stringify(errorBody("timeout", TIMEOUT_MESSAGE)));
const SHUTTING_DOWN_RESPONSE = errorResponse("shutting_down", SHUTTING_DOWN_MESSAGE);
const BROKER_UNAVAILABLE_RESPONSE = errorResponse("broker_unavailable", BROKER_UNAVAILABLE_MESSAGE);

/** The answer for a /get outcome; a value's is built once per notification and cached. */
export class ResponseCache {
  private readonly byNotification = new WeakMap<Notification, Prebuilt>();

  for(outcome: Outcome): Prebuilt {
    switch (outcome.kind) {
      case "value": {
        const n = outcome.notification;
        if (outcome.compacted) {
          return prebuild(
            200,
            JSON.stringify({ error_code: 0, value: n.value, version: n.version, compacted: true }),
          );
        }
        let p = this.byNotification.get(n);
        if (p === undefined) {
          p = prebuild(200, JSON.stringify({ error_code: 0, value: n.value, version: n.version }));
          this.byNotification.set(n, p);
        }
        return p;
      }
      case "timeout":
        return TIMEOUT_RESPONSE;
      case "shutting_down":
        return SHUTTING_DOWN_RESPONSE;
      case "broker_unavailable":
        return BROKER_UNAVAILABLE_RESPONSE;
    }
  }
}

let dateSecond = -1;
let dateText = "";
/** The Date header's value, formatted once per second (as Node's own http server caches it). */
export function httpDate(nowMs = Date.now()): string {
  const second = Math.floor(nowMs / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}

/**
 * The response as one Buffer of HTTP/1.1 bytes. `close`: the request asked to close the connection
 * (built afresh, rare); otherwise the keep-alive form, cached on the Prebuilt for the current second.
 */
export function rawResponse(p: Prebuilt, close: boolean): Buffer {
  const date = httpDate();
  const closing = close || p.closes;
  if (!closing && p.rawDate === date && p.raw !== undefined) return p.raw;
  let head = `HTTP/1.1 ${p.status} ${STATUS_CODES[p.status] ?? ""}\r\n`;
  for (let i = 0; i < p.headers.length; i += 2) head += `${p.headers[i]}: ${p.headers[i + 1]}\r\n`;
  head += `date: ${date}\r\n`;
  if (close && !p.closes) head += "connection: close\r\n";
  else if (!closing) head += `connection: keep-alive\r\nkeep-alive: timeout=${KEEP_ALIVE_S}\r\n`;
  const bytes = Buffer.concat([Buffer.from(`${head}\r\n`, "latin1"), p.body]);
  if (!closing) {
    p.raw = bytes;
    p.rawDate = date;
  }
  return bytes;
}
