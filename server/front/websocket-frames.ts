// The front's WebSocket codec (RFC 6455), server side: the handshake's accept, frames to the client
// (unmasked; a value's frame built once and written to every subscriber), and the client's frames
// (masked: text, binary, fragments, ping, pong, close). Small on purpose: clients send a few
// subscribe messages, the server sends the values. What the standard forbids is a protocol error
// (close 1002), a text that is not UTF-8 is 1007, a message over the limit 1009.

import { isUtf8 } from "node:buffer";
import { createHash } from "node:crypto";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** The Sec-WebSocket-Accept for a client's Sec-WebSocket-Key. */
export function acceptFor(key: string): string {
  return createHash("sha1")
    .update(key + GUID)
    .digest("base64");
}

/** The 101 that completes the handshake. */
export function switchingProtocols(key: string): Buffer {
  return Buffer.from(
    `HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${acceptFor(key)}\r\n\r\n`,
    "latin1",
  );
}

export const OPCODE = { text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

/** A frame to the client (servers do not mask), FIN set. */
export function serverFrame(opcode: number, payload: Buffer): Buffer {
  const n = payload.length;
  const headerLength = n < 126 ? 2 : n < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + n);
  frame[0] = 0x80 | opcode;
  if (n < 126) frame[1] = n;
  else if (n < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(n, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
    frame.writeUInt32BE(n >>> 0, 6);
  }
  payload.copy(frame, headerLength);
  return frame;
}

/** A close frame with its code and reason. */
export function closeFrame(code: number, reason: string): Buffer {
  const r = Buffer.from(reason.slice(0, 100));
  const payload = Buffer.allocUnsafe(2 + r.length);
  payload.writeUInt16BE(code, 0);
  r.copy(payload, 2);
  return serverFrame(OPCODE.close, payload);
}

export interface ClientFrameSink {
  /** A whole message: text (undefined: binary). */
  clientMessage(text: string | undefined): void;
  clientPing(payload: Buffer): void;
  /** The client closed (its code), or broke the protocol (the code to close with, and why). */
  clientClose(code: number, reason: string, byClient: boolean): void;
}

/** Reads a client's frames as they arrive; bounded by `maxMessageBytes`. */
export class ClientFrameReader {
  private pending: Buffer | undefined;
  /** A message in fragments: its parts so far (none: no message begun). */
  private fragments: Buffer[] | undefined;
  private fragmentBytes = 0;
  private fragmentedText = false;
  private done = false;

  constructor(private readonly maxMessageBytes: number) {}

  feed(chunk: Buffer, sink: ClientFrameSink): void {
    if (this.done) return;
    let buf = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = undefined;
    let pos = 0;
    while (!this.done) {
      const frame = this.frame(buf, pos, sink);
      if (frame < 0) break;
      pos = frame;
    }
    if (!this.done && pos < buf.length) {
      buf = buf.subarray(pos);
      if (buf.length > this.maxMessageBytes + 14) {
        this.fail(sink, 1009, "frame over the limit");
        return;
      }
      this.pending = Buffer.from(buf);
    }
  }

  /** Parse one frame at `pos`; returns where the next starts, or -1 when it is not all here. */
  private frame(buf: Buffer, pos: number, sink: ClientFrameSink): number {
    if (buf.length - pos < 2) return -1;
    const b0 = buf[pos] as number;
    const b1 = buf[pos + 1] as number;
    const fin = (b0 & 0x80) !== 0;
    const opcode = b0 & 0x0f;
    if (b0 & 0x70) return this.fail(sink, 1002, "reserved bits set (no extension was agreed)");
    if (!(b1 & 0x80)) return this.fail(sink, 1002, "client frames must be masked");
    let length = b1 & 0x7f;
    let at = pos + 2;
    if (length === 126) {
      if (buf.length - pos < 4) return -1;
      length = buf.readUInt16BE(pos + 2);
      at = pos + 4;
    } else if (length === 127) {
      if (buf.length - pos < 10) return -1;
      if (buf.readUInt32BE(pos + 2) !== 0) return this.fail(sink, 1009, "frame over the limit");
      length = buf.readUInt32BE(pos + 6);
      at = pos + 10;
    }
    if (length > this.maxMessageBytes) return this.fail(sink, 1009, "frame over the limit");
    if (buf.length - at < 4 + length) return -1;
    const mask = buf.subarray(at, at + 4);
    const payload = Buffer.allocUnsafe(length);
    for (let k = 0; k < length; k++) payload[k] = (buf[at + 4 + k] as number) ^ (mask[k & 3] as number);
    const next = at + 4 + length;
    if (opcode >= 0x8) {
      if (!fin || length > 125) return this.fail(sink, 1002, "a control frame fragmented or over 125 bytes");
      if (opcode === OPCODE.close) {
        this.done = true;
        const code = length >= 2 ? payload.readUInt16BE(0) : 1005;
        sink.clientClose(code === 1005 ? 1000 : code, "", true);
        return -1;
      }
      if (opcode === OPCODE.ping) sink.clientPing(payload);
      else if (opcode !== OPCODE.pong) return this.fail(sink, 1002, `unknown opcode ${opcode}`);
      return next;
    }
    let parts = this.fragments;
    if (opcode === 0x0) {
      if (parts === undefined) return this.fail(sink, 1002, "a continuation with no message begun");
    } else if (opcode === OPCODE.text || opcode === OPCODE.binary) {
      if (parts !== undefined) return this.fail(sink, 1002, "a new message before the last one ended");
      this.fragmentedText = opcode === OPCODE.text;
      parts = [];
      if (!fin) this.fragments = parts; // kept only while the message is unfinished
    } else return this.fail(sink, 1002, `unknown opcode ${opcode}`);
    parts.push(payload);
    this.fragmentBytes += length;
    if (this.fragmentBytes > this.maxMessageBytes) return this.fail(sink, 1009, "message over the limit");
    if (!fin) return next;
    const whole = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
    this.fragments = undefined;
    this.fragmentBytes = 0;
    if (!this.fragmentedText) sink.clientMessage(undefined);
    else if (!isUtf8(whole)) return this.fail(sink, 1007, "a text message that is not UTF-8");
    else sink.clientMessage(whole.toString("utf8"));
    return next;
  }

  private fail(sink: ClientFrameSink, code: number, reason: string): -1 {
    this.done = true;
    this.pending = undefined;
    sink.clientClose(code, reason, false);
    return -1;
  }
}
