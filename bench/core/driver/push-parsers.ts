// The driver's parsers for the push transports, on the same raw sockets and shared read buffer as the
// long-poll answers (http-response-parser.ts): a subscriber's connection starts with one HTTP
// response head, then carries messages for as long as it stays open.
//
// - EventStreamParser: `text/event-stream` (Server-Sent Events). The body is chunked (HTTP/1.1 with
//   no length) or runs to the close; its lines are `data:`, `id:`, `event:`, comments (`:`), and an
//   empty line ends an event. The last `id:` is the stream's cursor (Last-Event-ID on a reconnect).
// - WebSocketParser: the 101 Switching Protocols head (its Sec-WebSocket-Accept checked against the
//   key sent), then RFC 6455 frames from the server: unmasked, text or binary, possibly in fragments,
//   with ping (answered by the caller with a pong) and close.
//
// Cost discipline, as for the long-poll parser: the bytes of a read are parsed where they lie; a
// message costs its one string (the data) and no other allocation. Only a line or a frame cut
// by the end of a read is kept (copied) until the next read completes it. Bounded: a head over
// 16 KiB, a line or message over MAX_BODY_BYTES, is an error.

import { createHash } from "node:crypto";
import { HttpParseError, MAX_BODY_BYTES } from "./http-response-parser.ts";

/** What a push parser reports, per connection. */
export interface PushSink {
  /** The head was read and accepted: the subscription is open. */
  opened(): void;
  /** One message: its data (an event's data lines joined by \n; a text frame) and the stream's cursor (SSE id). */
  message(data: string, id: string | undefined): void;
  /** WebSocket: a ping, to be answered with a pong carrying the same payload. */
  ping(payload: Buffer): void;
  /** The server ended the stream (an SSE chunked body's end; a WebSocket close frame, with its code). */
  ended(how: string): void;
}

export interface PushParser {
  feed(buf: Buffer, start: number, end: number, sink: PushSink): void;
  /** Bytes kept from a read for the next one (the worker's held-bytes budget). */
  readonly heldBytes: number;
}

const MAX_HEAD_BYTES = 16 * 1024;
const LF = 0x0a;
const CR = 0x0d;

/** Reads the response head; returns where the body starts in `buf`, or -1 when more bytes are needed. */
class HeadReader {
  private text = "";
  status = 0;
  headers = new Map<string, string>();

  read(buf: Buffer, start: number, end: number): number {
    const before = this.text.length;
    this.text += buf.toString("latin1", start, end);
    const at = this.text.indexOf("\r\n\r\n");
    if (at < 0) {
      if (this.text.length > MAX_HEAD_BYTES) throw new HttpParseError("response head over 16 KiB");
      return -1;
    }
    const lines = this.text.slice(0, at).split("\r\n");
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "");
    if (!m)
      throw new HttpParseError(`not an HTTP response: ${JSON.stringify((lines[0] ?? "").slice(0, 80))}`);
    this.status = Number(m[1]);
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon > 0)
        this.headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const bodyAt = start + (at + 4 - before);
    this.text = "";
    return bodyAt;
  }

  get held(): number {
    return this.text.length;
  }
}

/** Server-Sent Events over one HTTP response. */
export class EventStreamParser implements PushParser {
  private head: HeadReader | undefined = new HeadReader();
  private chunked = false;
  /** Chunked: bytes of the current chunk still to come (-1: a size line is next; -2: its CRLF is next). */
  private chunkLeft = -1;
  private sizeLine = "";
  /** A line cut by the end of a read (or a chunk). */
  private partial = "";
  private data: string | undefined;
  private event = "";
  private lastId: string | undefined;
  private finished = false;

  constructor(private readonly valueEvents: readonly string[] = ["message"]) {}

  get heldBytes(): number {
    return (this.head?.held ?? 0) + this.partial.length + (this.data?.length ?? 0);
  }

  feed(buf: Buffer, start: number, end: number, sink: PushSink): void {
    let pos = start;
    if (this.head !== undefined) {
      const at = this.head.read(buf, pos, end);
      if (at < 0) return;
      const { status, headers } = this.head;
      this.head = undefined;
      if (status !== 200) throw new HttpParseError(`HTTP ${status} to the event-stream request`);
      const type = headers.get("content-type") ?? "";
      if (!/^text\/event-stream/i.test(type))
        throw new HttpParseError(`not an event stream: content-type "${type}" (want text/event-stream)`);
      this.chunked = /chunked/i.test(headers.get("transfer-encoding") ?? "");
      sink.opened();
      pos = at;
    }
    if (this.finished) return;
    if (!this.chunked) {
      this.lines(buf, pos, end, sink);
      return;
    }
    while (pos < end) {
      if (this.chunkLeft > 0) {
        const take = Math.min(this.chunkLeft, end - pos);
        this.lines(buf, pos, pos + take, sink);
        pos += take;
        this.chunkLeft -= take;
        if (this.chunkLeft === 0) this.chunkLeft = -2;
        continue;
      }
      // A size line, or the CRLF after a chunk's data: up to the next LF.
      const lf = buf.indexOf(LF, pos);
      const stop = lf < 0 || lf >= end ? end : lf;
      this.sizeLine += buf.toString("latin1", pos, stop);
      if (this.sizeLine.length > 64) throw new HttpParseError("chunk size line over 64 bytes");
      if (stop === end) return;
      pos = stop + 1;
      const line = this.sizeLine.trim();
      this.sizeLine = "";
      if (this.chunkLeft === -2) {
        if (line !== "") throw new HttpParseError("chunk data longer than its size");
        this.chunkLeft = -1;
        continue;
      }
      const size = Number.parseInt(line.split(";")[0] ?? "", 16);
      if (!/^[0-9a-fA-F]+/.test(line) || !Number.isSafeInteger(size))
        throw new HttpParseError(`bad chunk size line ${JSON.stringify(line.slice(0, 20))}`);
      if (size === 0) {
        this.finished = true;
        sink.ended("the event stream ended");
        return;
      }
      this.chunkLeft = size;
    }
  }

  /** The event-stream lines in [pos, end). */
  private lines(buf: Buffer, pos: number, end: number, sink: PushSink): void {
    while (pos < end) {
      const lf = buf.indexOf(LF, pos);
      if (lf < 0 || lf >= end) {
        this.partial += buf.toString("utf8", pos, end);
        if (this.partial.length > MAX_BODY_BYTES)
          throw new HttpParseError(`an event-stream line over ${MAX_BODY_BYTES} bytes`);
        return;
      }
      const lineEnd = lf > pos && buf[lf - 1] === CR ? lf - 1 : lf;
      if (this.partial !== "") {
        const line = (this.partial + buf.toString("utf8", pos, lf)).replace(/\r$/, "");
        this.partial = "";
        this.lineText(line, sink);
      } else this.line(buf, pos, lineEnd, sink);
      pos = lf + 1;
    }
  }

  /** One line from the read's bytes: the common case, with no string but the field's value. */
  private line(buf: Buffer, s: number, e: number, sink: PushSink): void {
    if (s === e) {
      this.dispatch(sink);
      return;
    }
    const first = buf[s];
    if (first === 0x3a) return; // ":" a comment (a keep-alive)
    const colon = buf.indexOf(0x3a, s);
    if (colon < 0 || colon >= e) {
      this.field(buf.toString("latin1", s, e), "");
      return;
    }
    const valueAt = colon + 1 < e && buf[colon + 1] === 0x20 ? colon + 2 : colon + 1;
    // The three fields the harness reads, by their bytes: data, id, event.
    if (
      colon - s === 4 &&
      first === 0x64 &&
      buf[s + 1] === 0x61 &&
      buf[s + 2] === 0x74 &&
      buf[s + 3] === 0x61
    ) {
      this.addData(buf.toString("utf8", valueAt, e));
      return;
    }
    if (colon - s === 2 && first === 0x69 && buf[s + 1] === 0x64) {
      const id = buf.toString("utf8", valueAt, e);
      if (!id.includes("\0")) this.lastId = id;
      return;
    }
    this.field(buf.toString("latin1", s, colon), buf.toString("utf8", valueAt, e));
  }

  /** A line put together from pieces of two reads. */
  private lineText(line: string, sink: PushSink): void {
    if (line === "") {
      this.dispatch(sink);
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    if (colon < 0) {
      this.field(line, "");
      return;
    }
    const value = line.slice(colon + 1);
    this.field(line.slice(0, colon), value.startsWith(" ") ? value.slice(1) : value);
  }

  private field(name: string, value: string): void {
    if (name === "data") this.addData(value);
    else if (name === "id") this.lastId = value.includes("\0") ? this.lastId : value;
    else if (name === "event") this.event = value;
    // retry and unknown fields: ignored, as the format says
  }

  private addData(value: string): void {
    this.data = this.data === undefined ? value : `${this.data}\n${value}`;
    if (this.data.length > MAX_BODY_BYTES) throw new HttpParseError(`an event over ${MAX_BODY_BYTES} bytes`);
  }

  private dispatch(sink: PushSink): void {
    const data = this.data;
    const type = this.event === "" ? "message" : this.event;
    this.data = undefined;
    this.event = "";
    if (data === undefined) return; // no data lines: nothing to dispatch (the format's rule)
    if (this.valueEvents.includes(type)) sink.message(data, this.lastId);
    else if (type === "shutting_down" || type === "broker_unavailable" || type === "error")
      sink.ended(`event: ${type} (${data})`);
  }
}

/** The GUID RFC 6455 appends to the client's key. */
const WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** The Sec-WebSocket-Accept a server must answer `key` with. */
export function webSocketAccept(key: string): string {
  return createHash("sha1")
    .update(key + WS_GUID)
    .digest("base64");
}

/** Server frames of one WebSocket connection, after its 101 head. */
export class WebSocketParser implements PushParser {
  private head: HeadReader | undefined = new HeadReader();
  /** A frame cut by the end of a read: its bytes so far. */
  private held: Buffer | undefined;
  /** A text or binary message in fragments: the parts so far. */
  private fragments: string | undefined;
  private closed = false;

  /** `accept`: the Sec-WebSocket-Accept the 101 must carry (webSocketAccept of the key sent). */
  constructor(private readonly accept: string) {}

  get heldBytes(): number {
    return (this.head?.held ?? 0) + (this.held?.length ?? 0) + (this.fragments?.length ?? 0);
  }

  feed(buf: Buffer, start: number, end: number, sink: PushSink): void {
    let pos = start;
    if (this.head !== undefined) {
      const at = this.head.read(buf, pos, end);
      if (at < 0) return;
      const { status, headers } = this.head;
      this.head = undefined;
      if (status !== 101) throw new HttpParseError(`HTTP ${status} to the WebSocket upgrade (want 101)`);
      if (headers.get("sec-websocket-accept") !== this.accept)
        throw new HttpParseError("the 101's Sec-WebSocket-Accept does not match the key sent");
      sink.opened();
      pos = at;
    }
    if (this.held !== undefined) {
      // The cut frame and this read's bytes together (rare: a frame split over reads).
      const joined = Buffer.concat([this.held, buf.subarray(pos, end)]);
      this.held = undefined;
      this.frames(joined, 0, joined.length, sink);
      return;
    }
    this.frames(buf, pos, end, sink);
  }

  private frames(buf: Buffer, pos: number, end: number, sink: PushSink): void {
    while (pos < end && !this.closed) {
      if (end - pos < 2) break;
      const b0 = buf[pos] as number;
      const b1 = buf[pos + 1] as number;
      if (b1 & 0x80) throw new HttpParseError("a masked frame from the server (RFC 6455 forbids it)");
      if (b0 & 0x70) throw new HttpParseError("a frame with reserved bits set (no extension was agreed)");
      let length = b1 & 0x7f;
      let at = pos + 2;
      if (length === 126) {
        if (end - pos < 4) break;
        length = buf.readUInt16BE(pos + 2);
        at = pos + 4;
      } else if (length === 127) {
        if (end - pos < 10) break;
        const high = buf.readUInt32BE(pos + 2);
        if (high !== 0) throw new HttpParseError("a frame over 4 GiB");
        length = buf.readUInt32BE(pos + 6);
        at = pos + 10;
      }
      if (length > MAX_BODY_BYTES)
        throw new HttpParseError(`a frame of ${length} bytes, over ${MAX_BODY_BYTES}`);
      if (end - at < length) break;
      this.frame(b0 & 0x80, b0 & 0x0f, buf, at, at + length, sink);
      pos = at + length;
    }
    if (pos < end && !this.closed) this.held = Buffer.from(buf.subarray(pos, end));
  }

  private frame(fin: number, opcode: number, buf: Buffer, s: number, e: number, sink: PushSink): void {
    switch (opcode) {
      case 0x1: // text
      case 0x2: // binary (its bytes read as UTF-8 all the same: the harness's values are text)
      case 0x0: {
        // continuation
        if (opcode !== 0 && this.fragments !== undefined)
          throw new HttpParseError("a new message before the last one's final fragment");
        if (opcode === 0 && this.fragments === undefined)
          throw new HttpParseError("a continuation frame with no message begun");
        const text = buf.toString("utf8", s, e);
        if (!fin) {
          this.fragments = (this.fragments ?? "") + text;
          if (this.fragments.length > MAX_BODY_BYTES)
            throw new HttpParseError(`a message over ${MAX_BODY_BYTES} bytes`);
          return;
        }
        const whole = this.fragments === undefined ? text : this.fragments + text;
        this.fragments = undefined;
        sink.message(whole, undefined);
        return;
      }
      case 0x8: {
        this.closed = true;
        const code = e - s >= 2 ? buf.readUInt16BE(s) : 1005;
        const reason = e - s > 2 ? buf.toString("utf8", s + 2, e) : "";
        sink.ended(`closed by the server (${code}${reason ? ` ${reason}` : ""})`);
        return;
      }
      case 0x9:
        sink.ping(Buffer.from(buf.subarray(s, e)));
        return;
      case 0xa: // pong: nothing to do
        return;
      default:
        throw new HttpParseError(`a frame with unknown opcode ${opcode}`);
    }
  }
}

/** A client frame (RFC 6455: masked) carrying `payload`; opcode 0x1 text, 0x8 close, 0xa pong. */
export function clientFrame(opcode: number, payload: Buffer): Buffer {
  const n = payload.length;
  const headerLength = n < 126 ? 2 : n < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + 4 + n);
  frame[0] = 0x80 | opcode;
  if (n < 126) frame[1] = 0x80 | n;
  else if (n < 65_536) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(n, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeUInt32BE(0, 2);
    frame.writeUInt32BE(n, 6);
  }
  const mask = frame.subarray(headerLength, headerLength + 4);
  for (let k = 0; k < 4; k++) mask[k] = (Math.random() * 256) | 0;
  for (let k = 0; k < n; k++) frame[headerLength + 4 + k] = (payload[k] as number) ^ (mask[k & 3] as number);
  return frame;
}
