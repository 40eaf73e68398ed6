// The listening socket's front: serves POST /get itself on raw sockets, hands everything else to
// fastify's HTTP server.
//
// Why: a parked /get is the server's whole job, and Node's HTTP machinery costs most of it. Per
// parked connection it keeps an IncomingMessage, a ServerResponse, a parser and about a dozen bound
// functions (~5 KB of heap), and each wake went through ServerResponse (header string, cork, a
// two-chunk writev, 'finish' bookkeeping): ~38 µs of server CPU per woken waiter. Here a parked
// connection is the socket, one small Connection and the store's Waiter (~1.6 KB of heap), and a
// wake is one `socket.write` of a Buffer shared by every waiter of the notification: ~16 µs, of
// which ~90% is the write system call itself (so writing with fs.writeSync on the descriptor,
// also measured, gained nothing: 17.5 vs 17.1 µs).
//
// The fast path takes only the plain shape of `POST /get` (request-head.ts declines anything
// else) with a form body or none. Any other request (/set, /stats, JSON bodies, chunked bodies,
// anything odd or malformed) hands its connection, with the bytes not yet answered, to fastify's
// server (`emit("connection")`), which owns it from then on: routing, errors, limits and hardening
// stay in one place, and the fast path only answers what it fully understands.

import type { Server as HttpServer } from "node:http";
import { createServer, type Server as NetServer, type Socket } from "node:net";
import { parse as parseQueryString } from "node:querystring";
import { mergeParams, type ParamLimits, type Params, ProtocolError, parseGet } from "../protocol.ts";
import { errorResponse, KEEP_ALIVE_S, type Prebuilt, type ResponseCache, rawResponse } from "../responses.ts";
import { type Deliver, type Store, Waiter } from "../store.ts";
import { type Head, MAX_HEAD_BYTES, readRequestHead } from "./request-head.ts";

export interface FrontOptions {
  store: Store;
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
}

export interface Front {
  /** The listening server; every connection arrives here first. */
  readonly server: NetServer;
  /** Connections the fast path holds now (idle, reading or parked). */
  connections(): number;
  /** Connections handed to fastify that are still open. */
  handedOff(): number;
  /** Close the fast-path connections idle past the timeout now (the periodic sweep's work); returns how many. */
  sweepIdle(): number;
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
  pending: Buffer | null = null;
  waiter: Waiter | undefined = undefined;
  /** The parked request asked for `connection: close`. */
  closeAfter = false;
  /** Date.now() of the last input or answer: the idle sweep closes connections idle too long. */
  activeAtMs: number;
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
const NO_PARAMS: Params = Object.freeze(Object.create(null));
const IDLE_SWEEP_INTERVAL_MS = 1000;

export function createFront(options: FrontOptions): Front {
  const { store, limits, responses, fallback, beforeWake } = options;
  const idleTimeoutMs = options.idleTimeoutMs ?? KEEP_ALIVE_S * 1000;
  const now = options.now ?? Date.now;
  const live = new Set<Connection>();
  const handedOff = new Set<Socket>();
  const forget = function (this: Socket) {
    handedOff.delete(this);
  };
  // While parked, further pipelined requests wait (HTTP/1.1 answers in order); past this much
  // unanswered input the socket stops reading until the parked one is answered.
  const maxPendingBytes = MAX_HEAD_BYTES + limits.maxBodyBytes;

  // Listeners are shared by every socket (`this` is the socket), so a connection costs no closures.
  function onData(this: FrontSocket, chunk: Buffer): void {
    const conn = this[kConnection];
    if (conn === undefined) return;
    conn.activeAtMs = now();
    conn.pending = conn.pending === null ? chunk : Buffer.concat([conn.pending, chunk]);
    if (conn.waiter !== undefined) {
      if (conn.pending.length > maxPendingBytes) this.pause();
      return;
    }
    serve(conn);
  }
  function onClose(this: FrontSocket): void {
    const conn = this[kConnection];
    if (conn === undefined) return;
    live.delete(conn);
    // The client went away while parked (closed, reset, or half-closed: a long-poll client that
    // sends FIN is not waiting any more): the waiter leaves at once.
    if (conn.waiter !== undefined) store.cancel(conn.waiter);
    conn.waiter = undefined;
  }
  function onError(this: FrontSocket): void {
    // ECONNRESET and the like: 'close' follows and cleans up.
  }
  // Idle keep-alive connections (and stalled requests) are closed by one periodic sweep rather
  // than a timer per socket: no Timeout object per connection, no timer refresh on every read and
  // write. A parked /get is not idle.
  const sweepIdle = (): number => {
    const cutoff = now() - idleTimeoutMs;
    let closed = 0;
    for (const conn of live) {
      if (conn.waiter === undefined && conn.activeAtMs <= cutoff) {
        closeConnection(conn);
        closed++;
      }
    }
    return closed;
  };
  const closeConnection = (conn: Connection): void => {
    live.delete(conn);
    conn.socket.destroy();
  };
  const idleSweep = setInterval(sweepIdle, Math.min(IDLE_SWEEP_INTERVAL_MS, idleTimeoutMs));
  idleSweep.unref();

  /** Answer the complete requests in `pending`, in order, until one parks or input runs out. */
  function serve(conn: Connection): void {
    const socket = conn.socket;
    while (conn.pending !== null && conn.waiter === undefined && socket.writable) {
      const buf = conn.pending;
      const head = readRequestHead(buf, 0);
      if (head.kind === "incomplete") return;
      if (head.kind === "other" || !servesHere(head)) {
        handOff(conn);
        return;
      }
      const end = head.bodyStart + head.contentLength;
      if (buf.length < end) return; // the body is still arriving
      conn.pending = end < buf.length ? buf.subarray(end) : null;
      answerGet(conn, head, buf.toString("utf8", head.bodyStart, end));
    }
  }

  function servesHere(head: Head & { kind: "request" }): boolean {
    if (head.method !== "POST") return false;
    if (head.target !== "/get" && !head.target.startsWith("/get?")) return false;
    if (head.contentLength > limits.maxBodyBytes) return false; // fastify answers too_large
    if (head.contentLength === 0 && head.contentType === "") return true;
    const semicolon = head.contentType.indexOf(";");
    const mediaType = semicolon < 0 ? head.contentType : head.contentType.slice(0, semicolon);
    return mediaType.trim() === FORM_TYPE;
  }

  function answerGet(conn: Connection, head: Head & { kind: "request" }, body: string): void {
    const q = head.target.indexOf("?");
    const query = q < 0 ? NO_PARAMS : (parseQueryString(head.target.slice(q + 1)) as Params);
    const form =
      head.contentLength === 0 && head.contentType === "" ? undefined : (parseQueryString(body) as Params);
    let answer: Prebuilt;
    try {
      const outcome = store.get(parseGet(mergeParams(query, form), limits), deliverParked, conn);
      if (outcome instanceof Waiter) {
        conn.waiter = outcome;
        conn.closeAfter = head.close;
        return;
      }
      answer = responses.for(outcome);
    } catch (error) {
      answer =
        error instanceof ProtocolError
          ? errorResponse(error.errorName, error.message)
          : errorResponse("internal", `internal error: ${(error as Error).message}`);
    }
    write(conn, answer, head.close);
  }

  const deliverParked: Deliver = (outcome, context) => {
    const conn = context as Connection;
    conn.waiter = undefined;
    beforeWake?.();
    write(conn, responses.for(outcome), conn.closeAfter);
    if (conn.pending !== null && conn.socket.writable) {
      // Pipelined requests waited behind this one. Serve them later, not inside the store's wake
      // loop (a pipelined /get of the same key must not join the waiters being woken).
      conn.socket.resume();
      setImmediate(serve, conn);
    }
  };

  function write(conn: Connection, answer: Prebuilt, close: boolean): void {
    const socket = conn.socket;
    if (!socket.writable) return;
    conn.activeAtMs = now();
    socket.write(rawResponse(answer, close));
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
    socket[kConnection] = undefined;
    live.delete(conn);
    // Node's HTTP server reads the unanswered bytes first (from the readable buffer), then the
    // rest straight from the socket.
    if (conn.pending !== null) socket.unshift(conn.pending);
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
    close() {
      server.close();
      clearInterval(idleSweep);
      for (const conn of live) if (conn.waiter === undefined) closeConnection(conn);
    },
    closeHandedOff() {
      for (const socket of handedOff) socket.destroySoon(); // after what is queued is written
    },
  };
}
