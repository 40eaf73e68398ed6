// A small, strict HTTP/1.1 response parser for the waiter fleet's raw sockets: status line, headers,
// and a body framed by Content-Length or chunked transfer coding. Several responses may arrive on one
// socket (keep-alive), and any response may be split across TCP segments at any byte.
// Why not undici: with 10,000 waiters the client's per-request CPU stretched the measured fan-out
// (see the harness issue); this parser does only what a long-poll answer needs.

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

export class ResponseParser {
  private buffer = "";

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
    const status = Number(statusLine[1]);
    let body: string;
    let consumed: number;
    if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
      // No body by definition (RFC 9112 §6.3), whatever the headers say.
      body = "";
      consumed = bodyStart;
    } else if (chunked) {
      const decoded = decodeChunked(this.buffer, bodyStart);
      if (!decoded) return undefined;
      [body, consumed] = decoded;
    } else if (contentLength !== undefined) {
      if (this.buffer.length < bodyStart + contentLength) return undefined;
      body = this.buffer.slice(bodyStart, bodyStart + contentLength);
      consumed = bodyStart + contentLength;
    } else {
      throw new HttpParseError("response has neither content-length nor chunked encoding");
    }
    this.buffer = this.buffer.slice(consumed);
    // Bytes were kept as latin1 so that offsets are byte offsets; the body is UTF-8.
    const text = Buffer.from(body, "latin1").toString("utf8");
    return headers
      ? { status: Number(statusLine[1]), body: text, headers }
      : { status: Number(statusLine[1]), body: text };
  }
}

/** Decode a chunked body starting at `start`; undefined while incomplete. Returns [body, end offset]. */
function decodeChunked(buffer: string, start: number): [string, number] | undefined {
  let pos = start;
  let body = "";
  for (;;) {
    const lineEnd = buffer.indexOf(CRLF, pos);
    if (lineEnd < 0) return undefined;
    const sizeText = (buffer.slice(pos, lineEnd).split(";", 1)[0] ?? "").trim();
    if (!/^[0-9a-fA-F]+$/.test(sizeText))
      throw new HttpParseError(`bad chunk size: ${JSON.stringify(sizeText)}`);
    const size = Number.parseInt(sizeText, 16);
    pos = lineEnd + CRLF.length;
    if (size === 0) {
      // Trailers (rare) end with an empty line.
      const end = buffer.indexOf(CRLF, pos);
      if (end < 0) return undefined;
      if (end === pos) return [body, end + CRLF.length];
      const trailersEnd = buffer.indexOf(HEADER_END, pos);
      if (trailersEnd < 0) return undefined;
      return [body, trailersEnd + HEADER_END.length];
    }
    if (buffer.length < pos + size + CRLF.length) return undefined;
    body += buffer.slice(pos, pos + size);
    if (buffer.slice(pos + size, pos + size + CRLF.length) !== CRLF)
      throw new HttpParseError("chunk not followed by CRLF");
    pos += size + CRLF.length;
  }
}
