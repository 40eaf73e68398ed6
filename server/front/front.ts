// The listening socket's front: serves POST /get itself on raw sockets, hands everything else to
// fastify's HTTP server.
//
// Why: a parked /get is the server's whole job, and Node's HTTP machinery costs most of it. Per
// parked connection it keeps an IncomingMessage, a ServerResponse, a parser and about a dozen bound
// functions (~5 KB of heap), and each wake went through ServerResponse (header string, cork, a
// two-chunk writev, 'finish' bookkeeping). Here a parked connection is the socket, one small
// Connection and the store's Waiter, and a wake is one write of a Buffer shared by every waiter of
// the notification, on the descriptor at once (writeDirect below). The figures:
// docs/perf/2026-11-28-design-figures.md, "The front".
//
// The fast path takes only the plain shape of `POST /get` (request-head.ts declines anything
// else) with a form body or none, of `GET /sse` (an event stream: the connection is the stream's
// from then on, each event one chunk shared by every subscriber of the value: sse.ts), and of a
// WebSocket upgrade to `/ws` (the connection is then a WebSocket: websocket-frames.ts is its codec,
// subscriptions.ts its protocol, and a value's frame is built once for all its subscribers). Any
// other request (/set, /stats, JSON bodies, chunked bodies, anything odd or malformed) hands its
// connection, with the bytes not yet answered, to fastify's server (`emit("connection")`), which
// owns it from then on: routing, errors, limits and hardening stay in one place, and the fast path
// only answers what it fully understands.

import { writeSync } from "node:fs";
import type { Server as HttpServer, ServerResponse } from "node:http";
import { createServer, type Server as NetServer, type Socket } from "node:net";
import { type Broker, type Deliver, type Notification, Waiter } from "../broker.ts";
import { type Follow, type FollowEvent, follow, MAX_UNSENT_BYTES } from "../follow.ts";
import {
  decodeBody,
  mergeParams,
  type ParamLimits,
  type Params,
  ProtocolError,
  parseForm,
  parseGet,
  SHUTTING_DOWN_MESSAGE,
} from "../protocol.ts";
import { errorResponse, KEEP_ALIVE_S, type Prebuilt, type ResponseCache, rawResponse } from "../responses.ts";
import {
  chunk,
  endEvent,
  eventChunk,
  KEEPALIVE_CHUNK,
  LAST_CHUNK,
  STREAM_HEAD,
  streamCursor,
} from "../sse.ts";
import { querySubscription, type SocketSide, Subscriptions, valueMessage } from "../subscriptions.ts";
import { MAX_CLIENT_MESSAGE_BYTES } from "../websocket.ts";
import { type Head, MAX_HEAD_BYTES, readRequestHead } from "./request-head.ts";
import {
  ClientFrameReader,
  type ClientFrameSink,
  closeFrame,
  OPCODE,
  serverFrame,
  switchingProtocols,
} from "./websocket-frames.ts";

export interface FrontOptions {
  broker: Broker;
  limits: ParamLimits & { maxBodyBytes: number };
  responses: ResponseCache;
  /** Gets every connection the fast path does not serve (fastify's server; it need not listen). */
  fallback: HttpServer;
  /** Called before each wake (the gate's fault injection); absent normally. */
  beforeWake?: () => void;
  /** A connection with no parked /get and no input for this long is closed (default KEEP_ALIVE_S). */
  idleTimeoutMs?: number;
  /** The idle sweep's clock, ms (default Date.now; tests inject a manual one). */
  now?: () => number;
  /** A request head must be complete this long after its first byte (default 10 s). */
  headersTimeoutMs?: number;
  /** A whole request must be complete this long after its first byte (default 30 s). */
  requestTimeoutMs?: number;
}

export interface Front {
  /** The listening server; every connection arrives here first. */
  readonly server: NetServer;
  /** Connections the fast path holds now (idle, reading or parked). */
  connections(): number;
  /** Connections handed to fastify that are still open. */
  handedOff(): number;
  /**
   * The periodic sweep's work, now (or as if at `atMs`): close connections idle past the timeout and
   * answer 408 to requests past their head or request deadline; returns how many it closed.
   */
  sweepIdle(atMs?: number): number;
  /** Answer bytes queued in user space (socket.writableLength) over every fast-path connection. */
  queuedOutputBytes(): number;
  /**
   * Shutdown: stop accepting, close every fast-path connection that holds no parked /get. Handed-off
   * connections are fastify's, but fastify's server never listens, so Node does not track them: the
   * front does, and closes them after their pending answers are flushed (`closeHandedOff`).
   */
  close(): void;
  closeHandedOff(): void;
}

/** Per fast-path connection: bytes not yet answered, and the parked /get if any. */
class Connection {
  /** Input not yet answered: `pending` when contiguous, plus chunks not yet joined to it (see need). */
  pending: Buffer | null = null;
  chunks: Buffer[] = [];
  chunkBytes = 0;
  /** Bytes the request being read needs in all (head + body); chunks are joined only then. */
  need = 0;
  /** now() when the first byte of the request not yet complete arrived (deadlines); -1: none. */
  requestStartedAtMs = -1;
  /** The head of that request is complete (then the request deadline applies, else the head's). */
  headDone = false;
  waiter: Waiter | undefined = undefined;
  /** An event stream (GET /sse) this connection now carries; nothing else is served on it. */
  stream: Follow | undefined = undefined;
  /** A WebSocket this connection became (an upgrade to /ws): its frames and subscriptions. */
  ws: ({ reader: ClientFrameReader; subs: Subscriptions } & ClientFrameSink & SocketSide) | undefined =
    undefined;
  /** The parked request asked for `connection: close`. */
  closeAfter = false;
  /** Date.now() of the last input or answer: the idle sweep closes connections idle too long. */
  activeAtMs: number;
  /** Answers are queued past MAX_QUEUED_OUTPUT_BYTES: serving waits for 'drain'. */
  blocked = false;
  constructor(
    readonly socket: Socket,
    nowMs: number,
  ) {
    this.activeAtMs = nowMs;
  }
}

const kConnection = Symbol("fast-path connection");
type FrontSocket = Socket & { [kConnection]?: Connection };

const FORM_TYPE = "application/x-www-form-urlencoded";
/**
 * Answers queued for a client that does not read: past this, the front stops answering its
 * pipelined requests (and stops reading) until the socket drains. Bounds the memory one client can
 * make the server hold by pipelining cheap requests for large answers.
 */
const MAX_QUEUED_OUTPUT_BYTES = 256 * 1024;
const NO_PARAMS: Params = Object.freeze(Object.create(null));
const PING_FRAME = serverFrame(OPCODE.ping, Buffer.alloc(0));

/** The answer to a request the fast path refused: the protocol's error, or an internal one. */
function errorAnswer(error: unknown): Prebuilt {
  return error instanceof ProtocolError
    ? errorResponse(error.errorName, error.message)
    : errorResponse("internal", `internal error: ${(error as Error).message}`);
}

/** A request target's query parameters (none: an empty set). */
function queryOf(head: { target: string }): Params {
  const q = head.target.indexOf("?");
  return q < 0 ? NO_PARAMS : parseForm(head.target.slice(q + 1));
}

// One value wakes every WebSocket subscriber of its key at once: its frame is built once.
let lastNotification: Notification | undefined;
let lastFrame: Buffer = PING_FRAME;
function valueFrame(n: Notification, compacted: boolean): Buffer {
  if (compacted) return serverFrame(OPCODE.text, Buffer.from(valueMessage(n, true)));
  if (n !== lastNotification) {
    lastNotification = n;
    lastFrame = serverFrame(OPCODE.text, Buffer.from(valueMessage(n, false)));
  }
  return lastFrame;
}
const IDLE_SWEEP_INTERVAL_MS = 1000;

/**
 * Write on the socket's descriptor at once (fs.writeSync on a non-blocking socket: never blocks),
 * when nothing is queued on its stream; returns the bytes written, 0 when none were. The caller gives
 * the rest to the stream (`socket.write`), which then keeps the order, waits out a full send buffer
 * (EAGAIN) and reports a peer that is gone (EPIPE, ECONNRESET) as it always does. No descriptor
 * (a platform or Node without `_handle.fd`): 0, and the stream writes everything.
 *
 * Why not the stream alone: Node's write path (Writable.write, writeOrBuffer, Socket._write,
 * writeGeneric, createWriteWrap, onwrite, _unrefTimer) is first run hot by a fan-out, so each server
 * process compiles it with V8's optimizing compiler then, inside the fan-out: with 8 processes,
 * `--trace-opt` listed these being compiled during a 15,000-waiter fan-out and `perf` put 11-16% of
 * the server's CPU in the 100k fan-out in the compiler (docs/perf/2026-11-28-design-figures.md,
 * "writeDirect").
 */
export function writeDirect(socket: Socket, bytes: Buffer): number {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (fd === undefined || fd < 0 || socket.writableLength > 0) return 0;
  try {
    return writeSync(fd, bytes);
  } catch {
    return 0;
  }
}

export function createFront(options: FrontOptions): Front {
  const { broker, limits, responses, fallback, beforeWake } = options;
  const idleTimeoutMs = options.idleTimeoutMs ?? KEEP_ALIVE_S * 1000;
  const now = options.now ?? Date.now;
  const headersTimeoutMs = options.headersTimeoutMs ?? 10_000;
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const live = new Set<Connection>();
  const handedOff = new Set<Socket>();
  const forget = function (this: Socket) {
    handedOff.delete(this);
  };
  // While parked, further pipelined requests wait (HTTP/1.1 answers in order). Past this much
  // unanswered input the connection is closed: reading on (rather than pausing) is what lets the
  // front notice a client that closes or half-closes behind its pipelined bytes.
  const maxPendingBytes = MAX_HEAD_BYTES + limits.maxBodyBytes;

  // Listeners are shared by every socket (`this` is the socket), so a connection costs no closures.
  function onData(this: FrontSocket, chunk: Buffer): void {
    const conn = this[kConnection];
    if (conn === undefined || conn.stream !== undefined) return; // a stream's client has nothing more to say
    if (conn.ws !== undefined) {
      conn.activeAtMs = now();
      conn.ws.reader.feed(chunk, conn.ws);
      return;
    }
    const t = now();
    conn.activeAtMs = t;
    if (conn.requestStartedAtMs < 0) conn.requestStartedAtMs = t;
    const held = (conn.pending?.length ?? 0) + conn.chunkBytes + chunk.length;
    if (held > maxPendingBytes && (conn.waiter !== undefined || conn.blocked)) {
      closeConnection(conn); // a parked or non-reading client piling up input: the waiter leaves
      return;
    }
    // A body arriving in many small writes is kept as chunks and joined once, when complete: the
    // cost stays linear in its size however it is split.
    if (conn.need > 0 && held < conn.need) {
      conn.chunks.push(chunk);
      conn.chunkBytes += chunk.length;
      return;
    }
    conn.pending = joinPending(conn, chunk);
    if (conn.waiter !== undefined) {
      if (nextNeedsFastify(conn.pending)) handOffParked(conn);
      return;
    }
    if (conn.blocked) return;
    serve(conn);
  }
  /** Is the next complete request one the front does not serve (a /set, /stats, ...)? */
  function nextNeedsFastify(pending: Buffer): boolean {
    const head = readRequestHead(pending, 0);
    return head.kind === "other" || (head.kind === "request" && !servesHere(head));
  }
  /**
   * A request fastify must serve arrived behind a parked /get (pipelined on one connection). Fastify
   * runs pipelined requests at once and answers in order, so the front hands it the whole connection,
   * the parked /get included: taken out of the store and written again as an equivalent request (its
   * key, cursor and the time it has left) in front of the pipelined bytes. A /set behind it then
   * takes effect at once, and wakes it, as on fastify's own connections.
   */
  function handOffParked(conn: Connection): void {
    const waiter = conn.waiter as Waiter;
    conn.waiter = undefined;
    const again = broker.handOver(waiter);
    if (again !== undefined) {
      let body = `key=${encodeURIComponent(again.key)}&timeout=${again.timeoutS}`;
      if (again.since !== undefined) body += `&since=${again.since}`;
      const head =
        `POST /get HTTP/1.1\r\nhost: front\r\ncontent-type: ${FORM_TYPE}\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\n${conn.closeAfter ? "connection: close\r\n" : ""}\r\n`;
      conn.pending = Buffer.concat([Buffer.from(head + body), conn.pending as Buffer]);
    }
    handOff(conn);
  }
  function joinPending(conn: Connection, chunk: Buffer): Buffer {
    if (conn.chunks.length === 0) return conn.pending === null ? chunk : Buffer.concat([conn.pending, chunk]);
    const parts = conn.pending === null ? conn.chunks : [conn.pending, ...conn.chunks];
    parts.push(chunk);
    conn.chunks = [];
    conn.chunkBytes = 0;
    return Buffer.concat(parts);
  }
  function onDrain(this: FrontSocket): void {
    const conn = this[kConnection];
    if (conn === undefined || !conn.blocked) return;
    conn.blocked = false;
    serve(conn);
  }
  function onClose(this: FrontSocket): void {
    const conn = this[kConnection];
    if (conn === undefined) return;
    live.delete(conn);
    // The client went away while parked (closed, reset, or half-closed: a long-poll client that
    // sends FIN is not waiting any more): the waiter leaves at once.
    if (conn.waiter !== undefined) broker.cancel(conn.waiter);
    conn.waiter = undefined;
    conn.stream?.stop();
    conn.stream = undefined;
    conn.ws?.subs.closed();
  }
  function onError(this: FrontSocket): void {
    // ECONNRESET and the like: 'close' follows and cleans up.
  }
  // Idle keep-alive connections (and stalled requests) are closed by one periodic sweep rather
  // than a timer per socket: no Timeout object per connection, no timer refresh on every read and
  // write. A parked /get is not idle.
  const sweepIdle = (atMs?: number): number => {
    const t = atMs ?? now();
    const cutoff = t - idleTimeoutMs;
    let closed = 0;
    for (const conn of live) {
      if (conn.waiter !== undefined || conn.stream !== undefined) continue;
      if (conn.ws !== undefined) {
        // A WebSocket with subscriptions is kept alive by them; one with none is idle like any
        // connection with no parked /get, and closed as one.
        if (conn.ws.subs.count === 0 && conn.activeAtMs <= cutoff) {
          conn.ws.close(1000, "idle: no subscription");
          closed++;
        }
        continue;
      }
      const started = conn.requestStartedAtMs;
      const late = started >= 0 && t - started >= (conn.headDone ? requestTimeoutMs : headersTimeoutMs);
      if (late) {
        // A head or body that did not complete in time (one byte every few seconds keeps a
        // connection active, never on time): 408, then closed.
        const what = conn.headDone
          ? `the request within ${requestTimeoutMs / 1000} s`
          : `its head within ${headersTimeoutMs / 1000} s`;
        closeConnection(conn, errorResponse("request_timeout", `the client did not send ${what}`));
        closed++;
      } else if (conn.activeAtMs <= cutoff) {
        closeConnection(conn);
        closed++;
      }
    }
    return closed;
  };
  /** Close a fast-path connection; with a last answer, after that answer is flushed. */
  const closeConnection = (conn: Connection, lastAnswer?: Prebuilt): void => {
    live.delete(conn);
    if (lastAnswer !== undefined && conn.socket.writable) write(conn, lastAnswer, true);
    else conn.socket.destroy();
  };
  const idleSweep = setInterval(() => sweepIdle(), Math.min(IDLE_SWEEP_INTERVAL_MS, idleTimeoutMs));
  idleSweep.unref();

  /**
   * Answer the complete requests in `pending`, in order, until one parks, input runs out, or the
   * client stops reading (answers queued past MAX_QUEUED_OUTPUT_BYTES: wait for 'drain').
   */
  function serve(conn: Connection): void {
    const socket = conn.socket;
    while (conn.pending !== null && conn.waiter === undefined && socket.writable) {
      if (socket.writableLength > MAX_QUEUED_OUTPUT_BYTES) {
        conn.blocked = true;
        socket.once("drain", onDrain);
        return;
      }
      const buf = conn.pending;
      const head = readRequestHead(buf, 0);
      if (head.kind === "incomplete") return;
      conn.headDone = true;
      if (head.kind === "other" || !servesHere(head)) {
        handOff(conn);
        return;
      }
      const end = head.bodyStart + head.contentLength;
      if (buf.length < end) {
        conn.need = end; // the body is still arriving
        return;
      }
      conn.need = 0;
      conn.pending = end < buf.length ? buf.subarray(end) : null;
      // The next request's deadline starts with its first byte, which may already be here.
      conn.headDone = false;
      conn.requestStartedAtMs = conn.pending === null ? -1 : now();
      if (head.webSocketKey !== undefined) {
        const rest = conn.pending; // the client's first frames may follow the head at once
        conn.pending = null;
        startWebSocket(conn, head, head.webSocketKey, rest);
        return;
      }
      if (head.method === "GET") {
        conn.pending = null; // an event stream: the connection is the stream's from here on
        startStream(conn, head);
        return;
      }
      answerGet(conn, head, buf.subarray(head.bodyStart, end));
    }
  }

  function servesHere(head: Head & { kind: "request" }): boolean {
    if (head.webSocketKey !== undefined) return head.target === "/ws" || head.target.startsWith("/ws?");
    if (head.method === "GET")
      return (head.target === "/sse" || head.target.startsWith("/sse?")) && head.contentLength === 0;
    if (head.method !== "POST") return false;
    if (head.target !== "/get" && !head.target.startsWith("/get?")) return false;
    if (head.contentLength > limits.maxBodyBytes) return false; // fastify answers too_large
    if (head.contentLength === 0 && head.contentType === "") return true;
    const semicolon = head.contentType.indexOf(";");
    const mediaType = semicolon < 0 ? head.contentType : head.contentType.slice(0, semicolon);
    return mediaType.trim() === FORM_TYPE;
  }

  function answerGet(conn: Connection, head: Head & { kind: "request" }, body: Buffer): void {
    let answer: Prebuilt;
    try {
      const query = queryOf(head);
      const form =
        head.contentLength === 0 && head.contentType === "" ? undefined : parseForm(decodeBody(body));
      const outcome = broker.get(parseGet(mergeParams(query, form), limits), deliverParked, conn);
      if (outcome instanceof Waiter) {
        conn.waiter = outcome;
        conn.closeAfter = head.close;
        return;
      }
      answer = responses.for(outcome);
    } catch (error) {
      answer = errorAnswer(error);
    }
    write(conn, answer, head.close);
  }

  /** GET /sse on the fast path: the head, then the key's values as events until either side ends. */
  function startStream(conn: Connection, head: Head & { kind: "request" }): void {
    let key: string;
    let since: number | undefined;
    try {
      const get = parseGet(queryOf(head), limits);
      key = get.key;
      since = streamCursor(get.since, head.lastEventId);
    } catch (error) {
      write(conn, errorAnswer(error), true);
      return;
    }
    if (!sendBytes(conn, STREAM_HEAD)) return;
    // follow() may send at once (a value already past the cursor): the stream is the connection's first.
    let started = false;
    const early: FollowEvent[] = [];
    const stream = follow(broker, key, since, (e) => (started ? streamEvent(conn, e) : early.push(e) > 0));
    conn.stream = stream;
    started = true;
    for (const e of early) if (!streamEvent(conn, e)) return;
  }

  /** One event of a fast-path stream; false when the stream is over (the follow then stops). */
  function streamEvent(conn: Connection, e: FollowEvent): boolean {
    switch (e.kind) {
      case "value":
        beforeWake?.();
        return sendBytes(conn, eventChunk(e.notification, e.compacted));
      case "keep-alive":
        return sendBytes(conn, KEEPALIVE_CHUNK);
      case "end":
        conn.stream = undefined;
        if (sendBytes(conn, Buffer.concat([chunk(endEvent(e.reason)), LAST_CHUNK])))
          conn.socket.destroySoon();
        return false;
    }
  }

  /** Write stream bytes; a client that does not read is cut past MAX_UNSENT_BYTES (false: it is gone). */
  function sendBytes(conn: Connection, bytes: Buffer): boolean {
    const socket = conn.socket;
    if (!socket.writable) return false;
    conn.activeAtMs = now();
    const done = writeDirect(socket, bytes);
    if (done < bytes.length) socket.write(done === 0 ? bytes : bytes.subarray(done));
    if (socket.writableLength <= MAX_UNSENT_BYTES) return true;
    socket.destroy(); // onClose stops what the connection carried
    return false;
  }

  /** A WebSocket upgrade to /ws on the fast path: the 101, then frames both ways. */
  function startWebSocket(
    conn: Connection,
    head: Head & { kind: "request" },
    key: string,
    rest: Buffer | null,
  ): void {
    let first: { key: string; since: number | undefined } | undefined;
    try {
      first = querySubscription(queryOf(head), limits);
    } catch (error) {
      write(conn, errorAnswer(error), true);
      return;
    }
    if (!sendBytes(conn, switchingProtocols(key))) return;
    const ws = new FrontWebSocket(conn);
    conn.ws = ws;
    if (first !== undefined) ws.subs.subscribe(first.key, first.since);
    if (rest !== null) ws.reader.feed(rest, ws);
  }

  /**
   * A fast-path WebSocket: both what its subscriptions send through (SocketSide) and what its
   * client's frames reach (ClientFrameSink). A class, so that an open socket costs its fields and
   * no closures (tens of thousands are held at once).
   */
  class FrontWebSocket implements SocketSide, ClientFrameSink {
    readonly reader = new ClientFrameReader(MAX_CLIENT_MESSAGE_BYTES);
    readonly subs: Subscriptions;
    constructor(private readonly conn: Connection) {
      this.subs = new Subscriptions(broker, limits, this);
    }
    sendValue(n: Notification, compacted: boolean): boolean {
      return sendBytes(this.conn, valueFrame(n, compacted));
    }
    sendText(text: string): boolean {
      return sendBytes(this.conn, serverFrame(OPCODE.text, Buffer.from(text)));
    }
    ping(): boolean {
      return sendBytes(this.conn, PING_FRAME);
    }
    close(code: number, reason: string): void {
      if (sendBytes(this.conn, closeFrame(code, reason))) this.conn.socket.destroySoon();
    }
    clientMessage(text: string | undefined): void {
      this.subs.message(text);
    }
    clientPing(payload: Buffer): void {
      sendBytes(this.conn, serverFrame(OPCODE.pong, payload));
    }
    clientClose(code: number, reason: string, byClient: boolean): void {
      this.subs.closed();
      // The client's close is answered with its code; a broken protocol with ours and why.
      this.close(code, byClient ? "" : reason);
    }
  }

  const deliverParked: Deliver = (outcome, context) => {
    const conn = context as Connection;
    conn.waiter = undefined;
    beforeWake?.();
    write(conn, responses.for(outcome), conn.closeAfter);
    if (conn.pending !== null && conn.socket.writable) {
      // Pipelined requests waited behind this one. Serve them later, not inside the store's wake
      // loop (a pipelined /get of the same key must not join the waiters being woken).
      setImmediate(serve, conn);
    }
  };

  function write(conn: Connection, answer: Prebuilt, close: boolean): void {
    const socket = conn.socket;
    if (!socket.writable) return;
    conn.activeAtMs = now();
    const bytes = rawResponse(answer, close);
    const done = writeDirect(socket, bytes);
    if (done < bytes.length) socket.write(done === 0 ? bytes : bytes.subarray(done));
    if (close || answer.closes) {
      conn.pending = null;
      socket.destroySoon(); // after the answer is flushed
    }
  }

  /** From here on the connection is fastify's, starting with the request not yet answered. */
  function handOff(conn: Connection): void {
    const socket = conn.socket as FrontSocket;
    socket.removeListener("data", onData);
    socket.removeListener("close", onClose);
    socket.removeListener("error", onError);
    socket.removeListener("drain", onDrain);
    socket[kConnection] = undefined;
    live.delete(conn);
    // Node's HTTP server reads the unanswered bytes first (from the readable buffer), then the
    // rest straight from the socket.
    const unanswered = conn.chunks.length > 0 ? joinPending(conn, Buffer.alloc(0)) : conn.pending;
    if (unanswered !== null) socket.unshift(unanswered);
    conn.pending = null;
    handedOff.add(socket);
    socket.once("close", forget);
    fallback.emit("connection", socket);
  }

  const server = createServer({ noDelay: true, allowHalfOpen: false }, (socket: FrontSocket) => {
    const conn = new Connection(socket, now());
    socket[kConnection] = conn;
    live.add(conn);
    socket.on("data", onData);
    socket.on("close", onClose);
    socket.on("error", onError);
  });

  return {
    server,
    connections: () => live.size,
    handedOff: () => handedOff.size,
    sweepIdle,
    queuedOutputBytes() {
      let bytes = 0;
      for (const conn of live) bytes += conn.socket.writableLength;
      return bytes;
    },
    close() {
      server.close();
      clearInterval(idleSweep);
      for (const conn of live) {
        // answered shutting_down by the store (a stream: its last event, then the end)
        if (conn.waiter !== undefined || conn.stream !== undefined) continue;
        if (conn.ws !== undefined) {
          conn.ws.subs.shutdown(); // one with subscriptions is closed by them, at the store's shutdown
          continue;
        }
        // Mid-request: its sender learns why, rather than from a bare EOF.
        closeConnection(
          conn,
          conn.requestStartedAtMs >= 0 ? errorResponse("shutting_down", SHUTTING_DOWN_MESSAGE) : undefined,
        );
      }
    },
    closeHandedOff() {
      for (const socket of handedOff) {
        // A request fastify is still reading (its body not complete) has a response not yet begun.
        const res = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
        if (res && !res.headersSent && !res.writableEnded) {
          const p = errorResponse("shutting_down", SHUTTING_DOWN_MESSAGE);
          res.shouldKeepAlive = false;
          res.writeHead(p.status, p.headers);
          res.end(p.body);
        }
        socket.destroySoon(); // after what is queued is written
      }
    },
  };
}
