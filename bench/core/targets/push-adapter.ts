// (Imports no schema library: the driver workers load this.)
// A profile's push transport (profile.ts `transports`) compiled for the driver: the bytes that open
// a subscriber's connection (with its cursor on a reconnect), the subscribe message where the
// protocol has one, and how a pushed message holds its value and cursor. Long poll stays the
// profile's wait (profile-adapter.ts).

import type { Profile } from "./profile.ts";
import {
  type Part,
  parseTemplate,
  pointerTokens,
  render,
  resolvePointer,
  type Vars,
} from "./profile-adapter.ts";
import { type PushTransport, TRANSPORTS, type Transport } from "./transports.ts";

export type Decoded = { kind: "value"; value: string; cursor?: string } | { kind: "error"; reason: string };

export interface PushAdapter {
  readonly transport: PushTransport;
  /** A reconnect can resume from a cursor (SSE ids or Last-Event-ID; a WebSocket cursor pointer). */
  readonly hasCursor: boolean;
  /** SSE: event types that carry values. */
  readonly valueEvents: readonly string[];
  /** The HTTP request that opens a subscriber's connection to `key` (from `cursor` on a resume). */
  openRequest(hostHeader: string, key: string, cursor: string | undefined, webSocketKey: string): string;
  /** WebSocket: the text message to send once open, where the protocol subscribes by message. */
  subscribeMessage(key: string, cursor: string | undefined): string | undefined;
  /** A pushed message's value and cursor (`id`: the SSE stream's last id). */
  decode(data: string, id: string | undefined): Decoded;
}

/** Which transports a profile offers (long poll: where it has a wait). */
export function profileTransports(profile: Profile): Transport[] {
  return TRANSPORTS.filter((t) =>
    t === "long-poll" ? profile.wait !== undefined : profile.transports?.[t] !== undefined,
  );
}

export function pushAdapterFromProfile(profile: Profile, transport: PushTransport): PushAdapter {
  const sse = transport === "sse" ? profile.transports?.sse : undefined;
  const ws = transport === "websocket" ? profile.transports?.websocket : undefined;
  const spec = sse ?? ws;
  if (spec === undefined)
    throw new Error(`profile "${profile.name}" offers no ${transport} transport (its "transports" lacks it)`);
  const path = parseTemplate(spec.path);
  const headers: [string, Part[]][] = Object.entries(spec.headers).map(([n, v]) => [n, parseTemplate(v)]);
  const message = sse !== undefined ? sse.data : (ws as NonNullable<typeof ws>).message;
  const subscribe = ws?.subscribe === undefined ? undefined : parseTemplate(ws.subscribe);
  const json = message.body === "json";
  const valueTokens = pointerTokens(message.value ?? "");
  const cursorTokens = message.cursor === undefined ? undefined : pointerTokens(message.cursor);
  const errorTokens = message.error === undefined ? undefined : pointerTokens(message.error);
  const resumeByHeader = sse !== undefined && sse.resume === "last-event-id";
  const asIs = (v: string) => v;

  // A cursor the messages carry is of use only where the reconnect sends it back.
  const sendsCursor = /\{cursor[}+-]/.test(
    `${spec.path}${ws?.subscribe ?? ""}${Object.values(spec.headers).join("")}`,
  );
  return {
    transport,
    // SSE: its ids (the format's cursor) or a cursor pointer, sent back as Last-Event-ID or in the
    // path; WebSocket: a cursor pointer, sent back in the path, a header or the subscribe message.
    hasCursor: sse !== undefined ? resumeByHeader || sendsCursor : cursorTokens !== undefined && sendsCursor,
    valueEvents: sse?.events ?? ["message"],
    openRequest(hostHeader, key, cursor, webSocketKey) {
      const vars: Vars = cursor === undefined ? { key } : { key, cursor };
      let text = `GET ${render(path, vars, encodeURIComponent) ?? "/"} HTTP/1.1\r\nHost: ${hostHeader}\r\n`;
      for (const [name, parts] of headers) {
        const v = render(parts, vars, asIs);
        if (v !== undefined) text += `${name}: ${v}\r\n`;
      }
      if (transport === "sse") {
        text += "Accept: text/event-stream\r\nCache-Control: no-store\r\n";
        if (resumeByHeader && cursor !== undefined) text += `Last-Event-ID: ${cursor}\r\n`;
      } else {
        text += `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${webSocketKey}\r\nSec-WebSocket-Version: 13\r\n`;
        if (ws?.subprotocol !== undefined) text += `Sec-WebSocket-Protocol: ${ws.subprotocol}\r\n`;
      }
      return `${text}\r\n`;
    },
    subscribeMessage(key, cursor) {
      if (subscribe === undefined) return undefined;
      return render(subscribe, cursor === undefined ? { key } : { key, cursor }, (v) =>
        JSON.stringify(v).slice(1, -1),
      );
    },
    decode(data, id) {
      if (!json)
        return id === undefined ? { kind: "value", value: data } : { kind: "value", value: data, cursor: id };
      let doc: unknown;
      try {
        doc = JSON.parse(data);
      } catch {
        return { kind: "error", reason: "a pushed message that is not JSON" };
      }
      if (errorTokens !== undefined) {
        const e = resolvePointer(doc, errorTokens);
        if (e !== undefined && e !== null) return { kind: "error", reason: `pushed error: ${String(e)}` };
      }
      const value = resolvePointer(doc, valueTokens);
      if (typeof value !== "string") return { kind: "error", reason: "a pushed message without a value" };
      const c = cursorTokens === undefined ? id : resolvePointer(doc, cursorTokens);
      const cursor = typeof c === "string" || typeof c === "number" ? String(c) : undefined;
      return cursor === undefined ? { kind: "value", value } : { kind: "value", value, cursor };
    },
  };
}
