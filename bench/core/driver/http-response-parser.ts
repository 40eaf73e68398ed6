// A small, strict HTTP/1.1 response parser for the waiter fleet's raw sockets: status line, headers,
// and a body framed by Content-Length or chunked transfer coding. Several responses may arrive on one
// socket (keep-alive), and any response may be split across TCP segments at any byte.
// Why not undici: with 10,000 waiters the client's per-request CPU stretched the measured fan-out
// (see the harness issue); this parser does only what a long-poll answer needs.
// Bounded and linear for any cutting of any answer: a head over 16 KiB or a body over MAX_BODY_BYTES
// is an error; a chunked body is decoded once, chunk by chunk as it arrives, and the bytes of the
// chunks already decoded are dropped from the buffer, so no read searches (or, in V8, flattens and
// copies) what earlier reads brought. A chunk whose data is still arriving is waited for by length
// alone, without looking at its bytes.
//
// Two paths, one behaviour. The common answer (a whole Content-Length response in one read, nothing
// buffered before it) is parsed straight from the read's bytes with a few native calls: one string
// of the head, no array of lines, no object per header, the body decoded once. Anything else
// (split, chunked, no body by status, anything malformed) takes the general path over a latin1
// string, which also names every error. Why: a profile of a worker during a 10,000-waiter fan-out
// put about half of its CPU per notification in the general path's parsing.

export interface ParsedResponse {
  status: number;
  body: string;
  /** The headers the parser was asked to keep (lower-case names), when it was asked for any. */
  headers?: Record<string, string>;
}

export class HttpParseError extends Error {}

const CRLF = "\r\n";
const HEADER_END = "\r\n\r\n";
const MAX_HEAD_BYTES = 16 * 1024;
/** The largest answer body the driver accepts (a long-poll answer is a value, not a download). */
export const MAX_BODY_BYTES = 1024 * 1024;

/** The response being read: its head is parsed, its body not yet complete. */
interface Current {
  status: number;
  headers: Record<string, string> | undefined;
  bodyStart: number;
  contentLength: number | undefined;
  chunked: boolean;
  /** Chunked: where the next chunk-size line (or the awaited chunk's data) starts in the buffer. */
  pos: number;
  /** Chunked: the size of the chunk whose data is awaited (its size line read), or −1. */
  awaiting: number;
  /** Chunked: the chunks decoded so far, and their bytes. */
  parts: string[];
  size: number;
}

/** Called for each completed response, in order. */
export type OnResponse = (status: number, body: string, headers: Record<string, string> | undefined) => void;

const HEADER_END_BYTES = Buffer.from(HEADER_END, "latin1");
/** A status line and header lines that each have a name and a colon (the general path's rules). */
/** (Linear: each line's name is one run of non-colon characters, so nothing can backtrack.) */
const SIMPLE_HEAD = /^HTTP\/1\.[01] \d{3}(?: [^\r\n]*)?(?:\r\n[^\r\n:]+:[^\r\n]*)*$/;
const DIGITS = /^\d{1,15}$/;
const CONTENT_LENGTH = "content-length";
const TRANSFER_ENCODING = "transfer-encoding";

export class ResponseParser {
  private buffer = "";
  /** Where the search for the end of the next head resumes (the buffer before it holds none). */
  private headSearchedTo = 0;
  private current: Current | undefined;

  /** `keep`: lower-case names of headers to return (a cursor in headers); none by default, no object per answer. */
  constructor(private readonly keep: readonly string[] = []) {}

  /** Feed bytes as they arrive; returns every response completed by them (usually 0 or 1). */
  push(chunk: Buffer | string): ParsedResponse[] {
    const out: ParsedResponse[] = [];
    const collect: OnResponse = (status, body, headers) =>
      out.push(headers ? { status, body, headers } : { status, body });
    if (typeof chunk === "string") this.general(chunk, collect);
    else this.feed(chunk, 0, chunk.length, collect);
    return out;
  }

  /**
   * Feed bytes `buf[start, end)` as they arrive (the bytes may be overwritten once this returns: a
   * reused read buffer); `on` is called for every response they complete.
   */
  feed(buf: Buffer, start: number, end: number, on: OnResponse): void {
    let pos = start;
    while (pos < end && this.buffer.length === 0 && this.current === undefined) {
      const next = this.whole(buf, pos, end, on);
      if (next < 0) break;
      pos = next;
    }
    if (pos < end) this.general(buf.toString("latin1", pos, end), on);
  }

  /**
   * The fast path: one whole Content-Length response at `buf[pos]`, parsed from the bytes; returns
   * where the next response starts, or −1 (nothing consumed) for anything the general path must do.
   * Built of native calls (indexOf, latin1 and UTF-8 decoding, one regular expression) rather than
   * byte loops: a fan-out's first thousands of answers run before V8 has optimised this code, and
   * an interpreted loop over a 150-byte head cost ~8 µs a response here (~0.5 µs optimised).
   */
  private whole(buf: Buffer, pos: number, end: number, on: OnResponse): number {
    // The first match; past `end` it lies in stale bytes of a reused buffer: the head is not all here.
    const headEnd = buf.indexOf(HEADER_END_BYTES, pos);
    if (headEnd < 0 || headEnd + 4 > end || headEnd - pos > MAX_HEAD_BYTES) return -1;
    const head = buf.toString("latin1", pos, headEnd);
    if (!SIMPLE_HEAD.test(head)) return -1; // malformed, or a folded line: the general path judges
    const status = Number(head.slice(9, 12));
    if (status < 200 || status === 204 || status === 304) return -1; // no body by status
    const lower = head.toLowerCase();
    if (lower.includes("\r\ntransfer-encoding:")) return -1; // chunked (or another coding)
    const at = lower.indexOf("\r\ncontent-length:");
    if (at < 0 || lower.includes("\r\ncontent-length:", at + 1)) return -1; // none, or twice
    const valueStart = at + 17;
    const lineEnd = lower.indexOf("\r\n", valueStart);
    const text = (lineEnd < 0 ? lower.slice(valueStart) : lower.slice(valueStart, lineEnd)).trim();
    if (!DIGITS.test(text)) return -1;
    const contentLength = Number(text);
    if (contentLength > MAX_BODY_BYTES) return -1;
    const bodyStart = headEnd + 4;
    const bodyEnd = bodyStart + contentLength;
    if (bodyEnd > end) return -1; // the body is not all here
    on(
      status,
      buf.toString("utf8", bodyStart, bodyEnd),
      this.keep.length > 0 ? this.kept(head, lower) : undefined,
    );
    return bodyEnd;
  }

  /** The headers asked for, from a head known to be well formed (its lower-case copy to search). */
  private kept(head: string, lower: string): Record<string, string> | undefined {
    let headers: Record<string, string> | undefined;
    let from = 0;
    for (;;) {
      const lineStart = lower.indexOf("\r\n", from);
      if (lineStart < 0) return headers;
      const colon = lower.indexOf(":", lineStart);
      const lineEnd = lower.indexOf("\r\n", lineStart + 2);
      const name = lower.slice(lineStart + 2, colon).trim();
      if (this.keep.includes(name) && name !== CONTENT_LENGTH && name !== TRANSFER_ENCODING) {
        headers ??= {};
        headers[name] = (lineEnd < 0 ? head.slice(colon + 1) : head.slice(colon + 1, lineEnd)).trim();
      }
      from = lineStart + 2;
    }
  }

  /** The general path: text in latin1 (so offsets are byte offsets), responses as they complete. */
  private general(text: string, on: OnResponse): void {
    // A head not yet complete was searched up to its last 3 bytes (a CRLFCRLF may straddle reads).
    this.headSearchedTo = Math.max(0, this.buffer.length - 3);
    this.buffer += text;
    for (;;) {
      const r = this.next();
      if (!r) break;
      on(r.status, r.body, r.headers);
    }
  }

  /** True when bytes of an unfinished response are buffered. */
  get pending(): boolean {
    return this.buffer.length > 0;
  }

  /** Bytes held that no completed part of a response has consumed (what the parser's memory grows with). */
  get bufferedBytes(): number {
    return this.buffer.length;
  }

  /** Everything an unfinished response holds: its buffered bytes and the chunks decoded so far. */
  get heldBytes(): number {
    return this.buffer.length + (this.current?.size ?? 0);
  }

  private next(): ParsedResponse | undefined {
    const c = this.current ?? this.head();
    if (c === undefined) return undefined;
    this.current = c;
    let body: string;
    let consumed: number;
    if (c.status === 204 || c.status === 304 || (c.status >= 100 && c.status < 200)) {
      // No body by definition (RFC 9112 §6.3), whatever the headers say.
      body = "";
      consumed = c.bodyStart;
    } else if (c.chunked) {
      const end = this.chunks(c);
      if (end === undefined) return undefined;
      body = c.parts.join("");
      consumed = end;
    } else if (c.contentLength !== undefined) {
      if (this.buffer.length < c.bodyStart + c.contentLength) return undefined;
      body = this.buffer.slice(c.bodyStart, c.bodyStart + c.contentLength);
      consumed = c.bodyStart + c.contentLength;
    } else {
      throw new HttpParseError("response has neither content-length nor chunked encoding");
    }
    this.buffer = this.buffer.slice(consumed);
    this.headSearchedTo = 0;
    this.current = undefined;
    // Bytes were kept as latin1 so that offsets are byte offsets; the body is UTF-8.
    const text = Buffer.from(body, "latin1").toString("utf8");
    return c.headers
      ? { status: c.status, body: text, headers: c.headers }
      : { status: c.status, body: text };
  }

  /** Parse the head of the next response, once it is complete. */
  private head(): Current | undefined {
    const headEnd = this.buffer.indexOf(HEADER_END, this.current === undefined ? this.headSearchedTo : 0);
    if (headEnd < 0) {
      if (this.buffer.length > MAX_HEAD_BYTES) throw new HttpParseError("response head over 16 KiB");
      return undefined;
    }
    const lines = this.buffer.slice(0, headEnd).split(CRLF);
    const statusLine = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0] ?? "");
    if (!statusLine)
      throw new HttpParseError(`bad status line: ${JSON.stringify((lines[0] ?? "").slice(0, 80))}`);
    let contentLength: number | undefined;
    let chunked = false;
    let headers: Record<string, string> | undefined;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] as string;
      const colon = line.indexOf(":");
      if (colon <= 0) throw new HttpParseError(`bad header line: ${JSON.stringify(line.slice(0, 80))}`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === "content-length") {
        if (!/^\d+$/.test(value)) throw new HttpParseError(`bad content-length: ${value}`);
        contentLength = Number(value);
        if (contentLength > MAX_BODY_BYTES)
          throw new HttpParseError(
            `response body of ${contentLength} bytes, over the ${MAX_BODY_BYTES} accepted`,
          );
      } else if (name === "transfer-encoding") {
        chunked = value
          .toLowerCase()
          .split(",")
          .map((s) => s.trim())
          .includes("chunked");
      } else if (this.keep.length > 0 && this.keep.includes(name)) {
        headers ??= {};
        headers[name] = value;
      }
    }
    const bodyStart = headEnd + HEADER_END.length;
    return {
      status: Number(statusLine[1]),
      headers,
      bodyStart,
      contentLength,
      chunked,
      pos: bodyStart,
      awaiting: -1,
      parts: [],
      size: 0,
    };
  }

  /**
   * Decode the chunks that have arrived since the last call; the end offset once the body is
   * complete. The bytes of decoded chunks are then dropped from the buffer (c.pos moves back to 0),
   * so a long body costs each of its bytes once, however finely it is cut.
   */
  private chunks(c: Current): number | undefined {
    const end = this.decodeChunks(c);
    if (end === undefined && c.pos > 0) {
      this.buffer = this.buffer.slice(c.pos);
      c.pos = 0;
    }
    return end;
  }

  private decodeChunks(c: Current): number | undefined {
    for (;;) {
      if (c.awaiting < 0) {
        const lineEnd = this.buffer.indexOf(CRLF, c.pos);
        if (lineEnd < 0) {
          if (this.buffer.length - c.pos > 1024) throw new HttpParseError("chunk-size line over 1 KiB");
          return undefined;
        }
        const sizeText = (this.buffer.slice(c.pos, lineEnd).split(";", 1)[0] ?? "").trim();
        if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText))
          throw new HttpParseError(`bad chunk size: ${JSON.stringify(sizeText.slice(0, 20))}`);
        const size = Number.parseInt(sizeText, 16);
        const dataStart = lineEnd + CRLF.length;
        if (size === 0) {
          // Trailers (rare) end with an empty line.
          const end = this.buffer.indexOf(CRLF, dataStart);
          if (end < 0) return undefined;
          if (end === dataStart) return end + CRLF.length;
          const trailersEnd = this.buffer.indexOf(HEADER_END, dataStart);
          if (trailersEnd < 0) {
            if (this.buffer.length - dataStart > MAX_HEAD_BYTES)
              throw new HttpParseError("trailers over 16 KiB");
            return undefined;
          }
          return trailersEnd + HEADER_END.length;
        }
        if (c.size + size > MAX_BODY_BYTES)
          throw new HttpParseError(`chunked response body over the ${MAX_BODY_BYTES} bytes accepted`);
        c.awaiting = size;
        c.pos = dataStart;
      }
      // The awaited chunk's data: judged by length alone until all of it (and its CRLF) is here.
      const dataEnd = c.pos + c.awaiting;
      if (this.buffer.length < dataEnd + CRLF.length) return undefined;
      if (this.buffer.slice(dataEnd, dataEnd + CRLF.length) !== CRLF)
        throw new HttpParseError("chunk not followed by CRLF");
      c.parts.push(this.buffer.slice(c.pos, dataEnd));
      c.size += c.awaiting;
      c.pos = dataEnd + CRLF.length;
      c.awaiting = -1;
    }
  }
}
