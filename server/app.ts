// The HTTP layer of the reference server: fastify routes that map the protocol (docs/server.md) onto the
// broker (broker.ts). It owns parsing of bodies, error responses and the disconnect hook; the broker owns state.
//
// Connections arrive at the front (front/front.ts), which serves plain POST /get on raw sockets
// (the hot path: parking and waking) and hands every other connection to fastify's server here.
// A /set wakes every parked /get of its key with one shared Outcome; the response is serialised
// once per Notification (responses.ts), not once per waiter.

import type { ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { type Broker, type BrokerStats, type Deliver, type Outcome, Waiter } from "./broker.ts";
import { type Clock, systemClock } from "./clock.ts";
import { fastifyServerFactory } from "./fastify-server.ts";
import { createFront, type Front } from "./front/front.ts";
import { MAX_HEAD_BYTES } from "./front/request-head.ts";
import { exposedGc, startIdleCollector } from "./idle-gc.ts";
import { MemoryBroker } from "./memory-broker.ts";
import {
  decodeBody,
  type ErrorName,
  mergeParams,
  type ParamLimits,
  type Params,
  ProtocolError,
  parseClear,
  parseForm,
  parseGet,
  parseJsonParams,
  parseSet,
  SHUTTING_DOWN_MESSAGE,
} from "./protocol.ts";
import { errorResponse, JSON_TYPE, KEEP_ALIVE_S, ResponseCache, rawResponse } from "./responses.ts";
import { serveStream, streamCursor } from "./sse.ts";
import { isLoopback, StatsCollector } from "./stats-gc.ts";
import { webSocketEndpoint } from "./websocket.ts";

export interface ServerLimits extends ParamLimits {
  maxBodyBytes: number;
  maxWaiters: number;
  maxWaitersPerKey: number;
  maxKeys: number;
  maxHistory: number;
}

export const DEFAULT_LIMITS: Readonly<ServerLimits> = Object.freeze({
  maxKeyBytes: 256,
  maxValueBytes: 64 * 1024,
  maxBodyBytes: 80 * 1024, // a 64 KiB value plus its key and form encoding overhead
  maxWaiters: 100_000,
  maxWaitersPerKey: 100_000,
  maxKeys: 1_000_000,
  maxHistory: 64,
  maxTimeoutS: 3600,
});

/** How long a client may take: to send a request head, a whole request; idle keep-alive is KEEP_ALIVE_S. */
export interface Deadlines {
  headersMs: number;
  requestMs: number;
}

export const DEFAULT_DEADLINES: Readonly<Deadlines> = Object.freeze({ headersMs: 10_000, requestMs: 30_000 });

export interface AppOptions {
  limits?: Partial<ServerLimits>;
  /** Where values live (broker.ts); default: in this process's memory. */
  broker?: Broker;
  /**
   * Answers /stats for the whole server when it runs on several processes (cluster.ts: sums every
   * process's own figures); default: this process's own (ownStats).
   */
  serverStats?: (gc: boolean) => Promise<StatsDocument>;
  deadlines?: Partial<Deadlines>;
  clock?: Clock;
  /**
   * For testing the harness's regression gate only: spend this many µs of CPU (a busy wait) before
   * each wake, as a slower wake path would. The delays add up across the waiters of one /set.
   */
  faultWakeCostUs?: number;
}

export interface ListenOptions {
  host: string;
  port: number;
  /** Listen queue length (the kernel caps it at net.core.somaxconn). */
  backlog?: number;
}

/** The body of GET /stats (docs/server.md): the protocol's figures and the process's resources. */
export interface StatsDocument extends BrokerStats {
  error_code: 0;
  memory: { rss_bytes: number; heap_used_bytes: number; heap_total_bytes: number };
  cpu: { user_us: number; system_us: number };
  /** A collection ran before these figures (asked with ?gc=1 from loopback, with --expose-gc). */
  gc_collected: boolean;
  limits: Readonly<ServerLimits>;
  pid: number;
  uptime_s: number;
  /** Several processes: how many, and each one's own figures. */
  processes?: number;
  per_process?: StatsDocument[];
}

/** This process's memory and CPU, as /stats reports them (the cluster's primary adds its own). */
export function processResources(): Pick<StatsDocument, "memory" | "cpu"> {
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  return {
    memory: { rss_bytes: mem.rss, heap_used_bytes: mem.heapUsed, heap_total_bytes: mem.heapTotal },
    cpu: { user_us: cpu.user, system_us: cpu.system },
  };
}

export interface LongPollApp {
  /** Serves every request but plain POST /get (those the front serves on raw sockets). */
  app: FastifyInstance;
  front: Front;
  broker: Broker;
  limits: Readonly<ServerLimits>;
  /** Listen on the front; resolves to the server's URL, e.g. http://127.0.0.1:8888. */
  listen(options: ListenOptions): Promise<string>;
  /** Stop accepting, answer every parked waiter with shutting_down, close the server. */
  shutdown(): Promise<void>;
  /** This process's own /stats figures (gc: collect garbage first, where --expose-gc allows). */
  ownStats(gc: boolean): Promise<StatsDocument>;
}

const OK_BODY = '{"error_code":0}';
/** Where a query string that could not be decoded leaves its error (fastify's parser cannot throw). */
const BAD_QUERY = Symbol("undecodable query");
const SWEEP_INTERVAL_MS = 60_000;

const kWaiter = Symbol("waiter");
type ParkedResponse = ServerResponse & { [kWaiter]?: Waiter };
/** The waiters parked on one of fastify's connections (several when /gets are pipelined). */
const kParkedHere = Symbol("parked on this connection");
type ParkingSocket = Socket & { [kParkedHere]?: Set<Waiter> };

/** Known routes and their one method, for telling 405 from 404. */
const ROUTE_METHODS: Record<string, string> = {
  "/get": "POST",
  "/set": "POST",
  "/clear": "POST",
  "/stats": "GET",
  "/healthz": "GET",
};

export function createApp(options: AppOptions = {}): LongPollApp {
  const limits: Readonly<ServerLimits> = Object.freeze({ ...DEFAULT_LIMITS, ...options.limits });
  const clock = options.clock ?? systemClock;
  const broker: Broker = options.broker ?? new MemoryBroker(limits, clock);
  const faultCostNs = BigInt(Math.round((options.faultWakeCostUs ?? 0) * 1000));
  let closing = false;

  const deadlines: Readonly<Deadlines> = Object.freeze({ ...DEFAULT_DEADLINES, ...options.deadlines });
  const app = Fastify({
    logger: false,
    bodyLimit: limits.maxBodyBytes,
    return503OnClosing: false, // we answer with our own shutting_down body
    forceCloseConnections: "idle",
    // Pipelining behind a parked /get bounded, Host and Expect answered with error bodies.
    serverFactory: fastifyServerFactory({
      keepAliveTimeoutMs: KEEP_ALIVE_S * 1000,
      requestTimeoutMs: deadlines.requestMs,
      headersTimeoutMs: deadlines.headersMs,
      maxHeldBytes: MAX_HEAD_BYTES + limits.maxBodyBytes, // as the front's fast path holds
    }),
    // One decoding of parameters on both paths (protocol.ts parseForm): the same key for the same bytes.
    // A query that cannot be decoded carries its error to the route (see requestParams).
    routerOptions: {
      querystringParser: (text: string) => {
        try {
          return parseForm(text);
        } catch (error) {
          return { [BAD_QUERY]: error };
        }
      },
    },
    // Errors from Node's HTTP parser (CL+TE, bare LF, 431, 408 ...) get this protocol's error body.
    clientErrorHandler: (error: NodeJS.ErrnoException, socket) => {
      if (error.code === "ECONNRESET" || socket.destroyed) return;
      const [name, message]: [ErrorName, string] =
        error.code === "ERR_HTTP_REQUEST_TIMEOUT"
          ? [
              "request_timeout",
              `the request was not complete within ${deadlines.requestMs / 1000} s (head within ${deadlines.headersMs / 1000} s)`,
            ]
          : error.code === "HPE_HEADER_OVERFLOW"
            ? ["headers_too_large", "the request head is too large"]
            : ["bad_request", `malformed HTTP request (${error.code ?? error.message})`];
      if (socket.writable) socket.write(rawResponse(errorResponse(name, message), true));
      socket.destroy();
    },
  });
  // Handed-off connections reach this server by emit("connection"): it never listens, so Node's
  // deadline checks (headersTimeout, requestTimeout) run only once "listening" is emitted (listen()).
  (app.server as { connectionsCheckingInterval?: number }).connectionsCheckingInterval = 1_000;
  // text/plain is not a parameter format: 415, as documented (fastify parses it by default).
  app.removeContentTypeParser("text/plain");

  // Bodies are read as bytes and decoded here (decodeBody): raw bytes that are not UTF-8 are refused.
  app.addContentTypeParser(
    "application/x-www-form-urlencoded",
    { parseAs: "buffer" },
    (_request, body, done) => {
      try {
        done(null, parseForm(decodeBody(body as Buffer)));
      } catch (error) {
        done(error as Error, undefined);
      }
    },
  );
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (_request, body, done) => {
    try {
      done(null, parseJsonParams(decodeBody(body as Buffer)));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  // Errors are built as the fast path builds them (responses.ts): one status, header and body rule.
  const sendError = (reply: FastifyReply, name: ErrorName, message: string): void => {
    const p = errorResponse(name, message);
    for (let i = 0; i < p.headers.length; i += 2) reply.header(p.headers[i] as string, p.headers[i + 1]);
    reply.code(p.status).send(p.body);
  };

  // Every /get outcome on fastify's connections is written straight to the ServerResponse from a
  // pre-built status, header list and body (shared with the front's raw path; see responses.ts).
  const responses = new ResponseCache();
  const writeOutcome = (res: ServerResponse, outcome: Outcome): void => {
    if (res.destroyed || res.writableEnded) return;
    const p = responses.for(outcome);
    res.writeHead(p.status, p.headers);
    res.end(p.body);
  };

  // The wake path. A parked /get is hijacked from fastify's reply pipeline; one shared deliver
  // function and one shared close listener serve every waiter: parking allocates no closures.
  const faultWait =
    faultCostNs > 0n
      ? () => {
          const until = process.hrtime.bigint() + faultCostNs;
          while (process.hrtime.bigint() < until) {
            // the injected fault: a slower wake path
          }
        }
      : undefined;
  const deliverParked: Deliver = (outcome, context) => {
    faultWait?.();
    writeOutcome(context as ParkedResponse, outcome);
  };
  function onParkedClose(this: ParkedResponse): void {
    // A client that goes away while parked is removed at once; after an answer this is a no-op.
    const waiter = this[kWaiter];
    if (waiter === undefined) return;
    broker.cancel(waiter);
    (this.req.socket as ParkingSocket)[kParkedHere]?.delete(waiter);
  }
  // A response queued behind another (pipelined /gets) has no socket yet and never sees it close:
  // the connection's own 'close' takes every waiter parked on it out of the store.
  function onParkingSocketClose(this: ParkingSocket): void {
    const parked = this[kParkedHere];
    if (parked === undefined) return;
    for (const waiter of parked) broker.cancel(waiter);
    parked.clear();
  }

  app.post("/get", (request, reply) => {
    const res = reply.raw as ParkedResponse;
    const socket = request.raw.socket as ParkingSocket;
    if (socket.destroyed) {
      reply.hijack(); // read after its connection was cut (pipelined, parsed in the same chunk)
      return;
    }
    const outcome = broker.get(parseGet(requestParams(request), limits), deliverParked, res);
    reply.hijack(); // answered here (writeOutcome), now or at the wake; errors above go to fastify's handler
    if (outcome instanceof Waiter) {
      res[kWaiter] = outcome;
      res.once("close", onParkedClose);
      let parked = socket[kParkedHere];
      if (parked === undefined) {
        parked = new Set();
        socket[kParkedHere] = parked;
        socket.once("close", onParkingSocketClose);
      }
      parked.add(outcome);
      return;
    }
    writeOutcome(res, outcome);
  });

  // Server-Sent Events: a stream of a key's values (sse.ts), on the same broker as /get.
  app.get("/sse", (request, reply) => {
    const params = requestParams(request);
    const req = parseGet(params, limits);
    const since = streamCursor(req.since, request.headers["last-event-id"]);
    if (closing) throw new ProtocolError("shutting_down", SHUTTING_DOWN_MESSAGE);
    reply.hijack();
    serveStream(broker, reply.raw, { key: req.key, timeoutS: 0, since });
  });

  // WebSocket: GET /ws upgraded (websocket.ts), on the same broker. Upgrades reach fastify's server
  // through the front's hand-over like any request the fast path does not serve.
  const webSockets = webSocketEndpoint(broker, limits);
  app.server.on("upgrade", (req, socket, head) => webSockets.upgrade(req, socket, head));

  app.post("/set", async (request, reply) => {
    const { version } = await broker.set(parseSet(requestParams(request), limits));
    return reply.type(JSON_TYPE).send(`{"error_code":0,"version":${version}}`);
  });

  app.post("/clear", async (request, reply) => {
    await broker.clear(parseClear(requestParams(request)));
    return reply.type(JSON_TYPE).send(OK_BODY);
  });

  // /stats?gc=1 from loopback clients, at most a tenth of the process's time (stats-gc.ts).
  const statsCollector = new StatsCollector((globalThis as { gc?: () => void }).gc);

  /** This process's own figures (one process of the server, or the whole of a one-process server). */
  const ownStats = async (gc: boolean): Promise<StatsDocument> => {
    // gc collects garbage first where the process runs with --expose-gc (the harness's memory
    // figures); without the flag there is nothing to collect with, and gc_collected says so.
    const collected = gc ? await statsCollector.request() : false;
    const s = await broker.stats();
    return {
      error_code: 0,
      ...s,
      ...processResources(),
      gc_collected: collected,
      limits,
      pid: process.pid,
      uptime_s: process.uptime(),
    };
  };

  app.get("/stats", async (request, reply) => {
    const gc = (request.query as { gc?: string }).gc === "1" && isLoopback(request.socket.remoteAddress);
    const doc = await (options.serverStats ?? ownStats)(gc);
    return reply.type(JSON_TYPE).send(JSON.stringify(doc));
  });

  app.get("/healthz", (_request, reply) => {
    if (closing) return sendError(reply, "shutting_down", SHUTTING_DOWN_MESSAGE);
    reply.type(JSON_TYPE).send(OK_BODY);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?", 1)[0] ?? "";
    const method = ROUTE_METHODS[path];
    if (method !== undefined) {
      reply.header("allow", method);
      sendError(
        reply,
        "method_not_allowed",
        `${request.method} ${path} is not allowed; use ${method} ${path}`,
      );
      return;
    }
    sendError(
      reply,
      "not_found",
      `no route ${path}; the routes are POST /get, /set, /clear and GET /stats, /healthz`,
    );
  });

  app.setErrorHandler((error: Error & { code?: string; statusCode?: number }, _request, reply) => {
    if (error instanceof ProtocolError) return sendError(reply, error.errorName, error.message);
    switch (error.code) {
      case "FST_ERR_CTP_BODY_TOO_LARGE":
        return sendError(
          reply,
          "too_large",
          `request body is over ${limits.maxBodyBytes} bytes (server flag --max-body-bytes)`,
        );
      case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
        return sendError(
          reply,
          "unsupported_media_type",
          "send parameters as application/x-www-form-urlencoded, application/json or in the query string",
        );
    }
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      return sendError(reply, "invalid_input", `invalid request: ${error.message}`);
    }
    return sendError(reply, "internal", `internal error: ${error.message}`);
  });

  const sweep = setInterval(() => broker.sweepExpired(), SWEEP_INTERVAL_MS);
  sweep.unref();
  // Young garbage collected in the quiet after parks, not inside the next wake (idle-gc.ts).
  const idleCollector = startIdleCollector(() => broker.parkedCount(), exposedGc(), clock);

  const front = createFront({
    broker,
    limits,
    responses,
    fallback: app.server,
    beforeWake: faultWait,
    headersTimeoutMs: deadlines.headersMs,
    requestTimeoutMs: deadlines.requestMs,
  });

  const listen = async (options: ListenOptions): Promise<string> => {
    await app.ready();
    app.server.emit("listening"); // Node's connection tracking and deadlines for handed-off connections
    await new Promise<void>((resolve, reject) => {
      front.server.once("error", reject);
      front.server.listen({ host: options.host, port: options.port, backlog: options.backlog }, () => {
        front.server.off("error", reject);
        resolve();
      });
    });
    const address = front.server.address() as AddressInfo;
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  };

  const shutdown = async (): Promise<void> => {
    if (closing) return;
    closing = true;
    clearInterval(sweep);
    idleCollector.stop();
    front.close(); // stop accepting; close idle fast-path connections
    webSockets.close(); // no new WebSockets; open ones are closed by their follows' shutting_down
    broker.shutdown(); // every parked waiter, on either path, gets shutting_down
    await app.close();
    front.closeHandedOff(); // fastify's connections: its server never listened, so Node tracks none
    await broker.close();
  };

  return { app, front, broker, limits, listen, shutdown, ownStats };
}

function requestParams(request: FastifyRequest): Params {
  const query = request.query as Params & { [BAD_QUERY]?: unknown };
  if (query[BAD_QUERY] !== undefined) throw query[BAD_QUERY];
  const body = request.body;
  if (body !== undefined && body !== null && (typeof body !== "object" || Array.isArray(body))) {
    throw new ProtocolError("invalid_input", "a JSON body must be an object of parameters");
  }
  return mergeParams(query, (body ?? undefined) as Params | undefined);
}
