// A deliberately narrow HTTP/1.1 request-head reader for the front's fast path (front.ts).
//
// It recognises only the plain, unambiguous shape of a request: `METHOD target HTTP/1.1`, header
// lines of token-name ":" visible-value, at most one Content-Length, a Host, and of upgrades only a
// plain WebSocket one (GET, Upgrade: websocket, Connection: upgrade, version 13, a 16-byte key).
// Everything else (chunked or other transfer codings, Expect, other upgrades, HTTP/1.0, obs-fold,
// bare LF, control bytes, duplicate Content-Length or Host, a head over MAX_HEAD_BYTES) is "other": the front hands the connection
// to Node's own parser (llhttp, behind fastify), which accepts or rejects it as it always did.
// So this reader never needs to be lenient: when in doubt, it declines.

/** Node's default --max-http-header-size: longer heads go to Node, which answers 431. */
export const MAX_HEAD_BYTES = 16 * 1024;

export type Head =
  /** The head is not all here yet. */
  | { readonly kind: "incomplete" }
  /** Not a shape this reader serves: hand the connection to the full HTTP server. */
  | { readonly kind: "other" }
  | {
      readonly kind: "request";
      readonly method: string;
      /** The request target as sent (origin form: path and query). */
      readonly target: string;
      /** Offset just past the blank line that ends the head. */
      readonly bodyStart: number;
      readonly contentLength: number;
      /** The Content-Type header, lower-cased; "" when absent. */
      readonly contentType: string;
      /** The client asked to close the connection after this response. */
      readonly close: boolean;
      /** The Last-Event-ID header (an event stream resumed), when sent. */
      readonly lastEventId?: string;
      /** A plain WebSocket upgrade's Sec-WebSocket-Key (only then is an upgrade a "request"). */
      readonly webSocketKey?: string;
    };

const INCOMPLETE: Head = Object.freeze({ kind: "incomplete" });
const OTHER: Head = Object.freeze({ kind: "other" });

const HEAD_END = Buffer.from("\r\n\r\n");
const REQUEST_LINE = /^([A-Z]+) (\/[!-~]*) HTTP\/1\.1$/;
// token ":" OWS value OWS, where the value has no control bytes other than tab.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control bytes is the point
const HEADER_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[\t ]*([^\x00-\x08\x0a-\x1f\x7f]*?)[\t ]*$/;
const BARE_LF = /(?:^|[^\r])\n/;

/** Read the request head that starts at `start` of `buf`. */
export function readRequestHead(buf: Buffer, start: number): Head {
  const end = buf.indexOf(HEAD_END, start);
  if (end < 0) {
    if (buf.length - start > MAX_HEAD_BYTES) return OTHER;
    // A head ended by bare LFs would never show CRLFCRLF: let Node's parser judge it.
    return BARE_LF.test(buf.toString("latin1", start)) ? OTHER : INCOMPLETE;
  }
  if (end - start > MAX_HEAD_BYTES) return OTHER;
  const lines = buf.toString("latin1", start, end).split("\r\n");
  const requestLine = REQUEST_LINE.exec(lines[0] ?? "");
  if (requestLine === null) return OTHER;
  let contentLength = -1;
  let contentType = "";
  let close = false;
  let hasHost = false;
  let lastEventId: string | undefined;
  let upgrade: string | undefined;
  let connectionUpgrade = false;
  let webSocketKey: string | undefined;
  let webSocketVersion: string | undefined;
  for (let i = 1; i < lines.length; i++) {
    const header = HEADER_LINE.exec(lines[i] as string);
    if (header === null) return OTHER;
    const value = header[2] as string;
    switch ((header[1] as string).toLowerCase()) {
      case "content-length":
        if (contentLength >= 0 || !/^[0-9]{1,15}$/.test(value)) return OTHER;
        contentLength = Number(value);
        break;
      case "content-type":
        if (contentType !== "") return OTHER;
        contentType = value.toLowerCase();
        break;
      case "host":
        if (hasHost) return OTHER;
        hasHost = true;
        break;
      case "connection": {
        const options = value.toLowerCase();
        if (/(?:^|[\s,])upgrade(?:$|[\s,])/.test(options)) connectionUpgrade = true;
        if (/(?:^|[\s,])close(?:$|[\s,])/.test(options)) close = true;
        break;
      }
      case "upgrade":
        if (upgrade !== undefined) return OTHER;
        upgrade = value.toLowerCase();
        break;
      case "sec-websocket-key":
        if (webSocketKey !== undefined) return OTHER;
        webSocketKey = value;
        break;
      case "sec-websocket-version":
        if (webSocketVersion !== undefined) return OTHER;
        webSocketVersion = value;
        break;
      case "last-event-id":
        if (lastEventId !== undefined) return OTHER;
        lastEventId = value;
        break;
      case "transfer-encoding":
      case "expect":
        return OTHER;
    }
  }
  if (!hasHost) return OTHER;
  const isUpgrade = upgrade !== undefined || connectionUpgrade;
  if (
    isUpgrade &&
    !(
      upgrade === "websocket" &&
      connectionUpgrade &&
      webSocketVersion === "13" &&
      /^[A-Za-z0-9+/]{22}==$/.test(webSocketKey ?? "") &&
      requestLine[1] === "GET" &&
      contentLength <= 0
    )
  )
    return OTHER;
  return {
    kind: "request",
    method: requestLine[1] as string,
    target: requestLine[2] as string,
    bodyStart: end + HEAD_END.length,
    contentLength: Math.max(contentLength, 0),
    contentType,
    close,
    ...(lastEventId !== undefined ? { lastEventId } : {}),
    ...(isUpgrade ? { webSocketKey } : {}),
  };
}
