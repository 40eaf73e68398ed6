// The node:http server behind fastify (every connection the front does not serve itself), built
// here rather than by fastify so that three things hold on it as on the front's fast path:
//
// 1. What a client can queue behind a long poll is bounded, and a client that leaves is noticed.
//    HTTP/1.1 answers in order, so every request pipelined behind a /get that parks waits for it,
//    its IncomingMessage, ServerResponse and fastify objects held (and a pipelined /get parks a
//    waiter of its own). Node stops reading a connection once ~16 KB of such answers are queued,
//    and a connection that is not read never shows that its client closed: the waiter stayed until
//    its own timeout (an hour), its socket in CLOSE-WAIT. So while a /get is unanswered on a
//    connection, more than MAX_REQUESTS_BEHIND_GET requests behind it, or Node no longer reading it,
//    close the connection, and its waiters leave at once (the front bounds the same by bytes).
//    Counted when a request arrives, not when it parks: Node parses a whole chunk of pipelined
//    requests before fastify has read the first one's body; and from a connection's first /get on,
//    input behind an unanswered one reaches the parser a request at a time (interposeOnData).
// 2. An HTTP/1.1 request without Host gets this protocol's error body (Node answers 400 with none).
// 3. An Expect other than 100-continue gets 417 with the error body (Node's has none).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { readRequestHead } from "./front/request-head.ts";
import { errorResponse, type Prebuilt } from "./responses.ts";

/** Requests a connection may pipeline behind an unanswered /get before it is closed. */
export const MAX_REQUESTS_BEHIND_GET = 32;

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Per connection, from its first /get on. */
interface GetState {
  /** /get requests on this connection not yet answered (parked, or their body still being read). */
  unanswered: number;
  /** Requests that arrived while one was. */
  behind: number;
  /** Input not yet given to the parser while a /get is unanswered: a request not yet complete. */
  held: Buffer | undefined;
  /** Node's own 'data' listener: the parser's input. Undefined where not interposed. */
  toParser: ((chunk: Buffer) => void) | undefined;
  /** The most input held (a whole request at most: head and body limits). */
  maxHeldBytes: number;
}

const newState = (): GetState => ({
  unanswered: 0,
  behind: 0,
  held: undefined,
  toParser: undefined,
  maxHeldBytes: 0,
});

const kGets = Symbol("unanswered /get");
type GuardedSocket = Socket & { [kGets]?: GetState };

export interface FastifyServerOptions {
  keepAliveTimeoutMs: number;
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  /** Input held behind an unanswered /get before the connection is closed (a whole request). */
  maxHeldBytes: number;
}

/** Fastify's `serverFactory`: the server, with fastify's handler behind the guards above. */
export function fastifyServerFactory(options: FastifyServerOptions): (handler: Handler) => Server {
  return (handler) => {
    const server = createServer({ requireHostHeader: false }, (req, res) => {
      const socket = req.socket as GuardedSocket;
      // Node parses a whole chunk of pipelined requests at once: those after a close are dropped.
      if (socket.destroyed) return;
      let state = socket[kGets];
      if (state !== undefined && state.unanswered > 0) {
        state.behind++;
        if (state.behind > MAX_REQUESTS_BEHIND_GET || socket.isPaused()) {
          socket.destroy(); // each parked response's 'close' takes its waiter out of the store
          return;
        }
      }
      if (req.method === "POST" && (req.url === "/get" || req.url?.startsWith("/get?"))) {
        if (state === undefined) {
          state = newState();
          socket[kGets] = state;
          // From its first /get on, this connection's input passes interposeOnData. Not before: Node
          // reads a connection fastest when it feeds its parser itself (a /set connection stays so),
          // and not inside the parser's own callback: on the next tick, before the next read.
          process.nextTick(interposeOnData, socket, options.maxHeldBytes);
        }
        state.unanswered++;
        res.once("close", onGetClose);
      }
      if (req.headers.host === undefined && req.httpVersion === "1.1") {
        answerAndClose(res, errorResponse("bad_request", "an HTTP/1.1 request must carry a Host header"));
        return;
      }
      handler(req, res);
    });
    server.on("checkExpectation", (req: IncomingMessage, res: ServerResponse) => {
      const expect = String(req.headers.expect).slice(0, 64);
      answerAndClose(
        res,
        errorResponse("expectation_failed", `Expect: ${expect} is not supported; only 100-continue is`),
      );
    });
    server.keepAliveTimeout = options.keepAliveTimeoutMs;
    server.requestTimeout = options.requestTimeoutMs;
    server.headersTimeout = options.headersTimeoutMs;
    return server;
  };
}

/** A /get's response is done (answered, or its connection gone). */
function onGetClose(this: ServerResponse): void {
  const socket = this.req.socket as GuardedSocket;
  const state = socket[kGets];
  if (state === undefined) return;
  state.unanswered--;
  if (state.unanswered === 0) state.behind = 0;
}

/**
 * Stand between a connection handed to this server (emit("connection")) and Node's parser. Node
 * parses a whole chunk of pipelined requests at once, making request and response objects of each
 * (300 connections pipelining 800 requests behind a parked /get took the process up ~450 MB before
 * any could be refused). So while a /get on the connection is unanswered, input is given to the
 * parser one complete request at a time (the guard above counts them and closes the connection past
 * its bound), and an incomplete one is held, up to `maxHeldBytes` (a request's head and body
 * limits), then the connection is closed, as the front does. Reading goes on, so a client that
 * closes is noticed at once; a /set behind a parked /get still reaches the server and wakes it.
 * Called for a connection once its first /get arrives.
 */
export function interposeOnData(socket: Socket, maxHeldBytes: number): void {
  const guarded = socket as GuardedSocket;
  if (socket.destroyed || guarded[kGets]?.toParser !== undefined) return;
  const toParser = socket.listeners("data")[0] as ((chunk: Buffer) => void) | undefined;
  if (toParser === undefined) return; // not a connection Node's HTTP server took
  socket.removeListener("data", toParser);
  const state = guarded[kGets] ?? newState();
  state.toParser = toParser;
  state.maxHeldBytes = maxHeldBytes;
  guarded[kGets] = state;
  // Adding a 'data' listener makes Node read this socket in JavaScript (it stops feeding its parser
  // from the handle directly), so every chunk passes here.
  socket.on("data", onInterposedData);
}

function onInterposedResume(this: GuardedSocket): void {
  if (this[kGets]?.held !== undefined) onInterposedData.call(this, EMPTY);
}

const EMPTY = Buffer.alloc(0);

function onInterposedData(this: GuardedSocket, chunk: Buffer): void {
  const state = this[kGets] as GetState;
  const toParser = state.toParser as (chunk: Buffer) => void;
  if (state.unanswered === 0 && state.held === undefined) {
    toParser(chunk);
    return;
  }
  let buf = state.held === undefined ? chunk : Buffer.concat([state.held, chunk]);
  state.held = undefined;
  while (buf.length > 0 && !this.destroyed) {
    if (this.isPaused()) {
      // Node stopped reading (answers queued): it may not be fed until it resumes.
      state.held = buf;
      this.once("resume", onInterposedResume);
      return;
    }
    if (state.unanswered === 0) {
      toParser(buf);
      return;
    }
    const head = readRequestHead(buf, 0);
    if (head.kind === "other") {
      toParser(buf); // not a shape read here (chunked, malformed): Node's parser judges it
      return;
    }
    const end = head.kind === "request" ? head.bodyStart + head.contentLength : -1;
    if (end < 0 || end > buf.length) {
      if (buf.length > state.maxHeldBytes)
        this.destroy(); // a parked client piling up input
      else state.held = buf;
      return;
    }
    toParser(buf.subarray(0, end));
    buf = buf.subarray(end);
  }
}

function answerAndClose(res: ServerResponse, p: Prebuilt): void {
  res.shouldKeepAlive = false;
  res.writeHead(p.status, [...p.headers, "connection", "close"]);
  res.end(p.body);
}
