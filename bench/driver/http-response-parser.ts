// A small, strict HTTP/1.1 response parser for the waiter fleet's raw sockets: status line, headers,
// and a body framed by Content-Length or chunked transfer coding. Several responses may arrive on one
// socket (keep-alive), and any response may be split across TCP segments at any byte.
// Why not undici: with 10,000 waiters the client's per-request CPU stretched the measured fan-out
// (see the harness issue); this parser does only what a long-poll answer needs.
// Bounded and linear: a head over 16 KiB or a body over MAX_BODY_BYTES is an error, and a chunked
// body is decoded once, chunk by chunk as it arrives (never re-decoded from its start).

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
  /** Chunked: where the next chunk-size line starts, and the chunks decoded so far. */
  pos: number;
  parts: string[];
  size: number;
}

export class ResponseParser {
  private buffer = "";
  private current: Current | undefined;

  /** `keep`: lower-case names of headers to return (a cursor in headers); none by default, no object per answer. */
  constructor(private readonly keep: readonly string[] = []) {}

  /** Feed bytes as they arrive; returns every response completed by them (usually 0 or 1). */
  push(chunk: Buffer | string): ParsedResponse[] {
    this.buffer += typeof chunk === "string" ? chunk : chunk.toString("latin1");
    const out: ParsedResponse[] = [];
    for (;;) {
      const response = this.next();
      if (!response) break;
      out.push(response);
    }
    return out;
  }

  /** True when bytes of an unfinished response are buffered. */
  get pending(): boolean {
    return this.buffer.length > 0;
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
    this.current = undefined;
    // Bytes were kept as latin1 so that offsets are byte offsets; the body is UTF-8.
    const text = Buffer.from(body, "latin1").toString("utf8");
    return c.headers
      ? { status: c.status, body: text, headers: c.headers }
      : { status: c.status, body: text };
  }

  /** Parse the head of the next response, once it is complete. */
  private head(): Current | undefined {
    const headEnd = this.buffer.indexOf(HEADER_END);
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
      parts: [],
      size: 0,
    };
  }

  /** Decode the chunks that have arrived since the last call; the end offset once the body is complete. */
  private chunks(c: Current): number | undefined {
    const buffer = this.buffer;
    for (;;) {
      const lineEnd = buffer.indexOf(CRLF, c.pos);
      if (lineEnd < 0) {
        if (buffer.length - c.pos > 1024) throw new HttpParseError("chunk-size line over 1 KiB");
        return undefined;
      }
      const sizeText = (buffer.slice(c.pos, lineEnd).split(";", 1)[0] ?? "").trim();
      if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText))
        throw new HttpParseError(`bad chunk size: ${JSON.stringify(sizeText.slice(0, 20))}`);
      const size = Number.parseInt(sizeText, 16);
      const dataStart = lineEnd + CRLF.length;
      if (size === 0) {
        // Trailers (rare) end with an empty line.
        const end = buffer.indexOf(CRLF, dataStart);
        if (end < 0) return undefined;
        if (end === dataStart) return end + CRLF.length;
        const trailersEnd = buffer.indexOf(HEADER_END, dataStart);
        if (trailersEnd < 0) return undefined;
        return trailersEnd + HEADER_END.length;
      }
      if (c.size + size > MAX_BODY_BYTES)
        throw new HttpParseError(`chunked response body over the ${MAX_BODY_BYTES} bytes accepted`);
      if (buffer.length < dataStart + size + CRLF.length) return undefined;
      if (buffer.slice(dataStart + size, dataStart + size + CRLF.length) !== CRLF)
        throw new HttpParseError("chunk not followed by CRLF");
      c.parts.push(buffer.slice(dataStart, dataStart + size));
      c.size += size;
      c.pos = dataStart + size + CRLF.length;
    }
  }
}
