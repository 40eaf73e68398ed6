// The HTTP layer of the reference server: fastify routes that map the protocol (DESIGN §1) onto the
// pure Store. It owns parsing of bodies, error responses and the disconnect hook; the store owns state.
//
// Hot path: a /set wakes every parked /get of its key with one shared Outcome; the response body is
// serialised once per Notification (cached in a WeakMap), not once per waiter.

import type { ServerResponse } from "node:http";
import { parse as parseQueryString } from "node:querystring";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import {
  ERRORS,
  type ErrorName,
  errorBody,
  type ParamLimits,
  type Params,
  ProtocolError,
  parseClear,
  parseGet,
  parseSet,
  SHUTTING_DOWN_MESSAGE,
  TIMEOUT_MESSAGE,
} from "./protocol.ts";
import {
  type Clock,
  type Deliver,
  type Notification,
  type Outcome,
  Store,
  systemClock,
  Waiter,
} from "./store.ts";

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

export interface AppOptions {
  limits?: Partial<ServerLimits>;
  clock?: Clock;
  /**
   * For testing the harness's regression gate only: spend this many µs of CPU (a busy wait) before
   * each wake, as a slower wake path would. The delays add up across the waiters of one /set.
   */
  faultWakeCostUs?: number;
}

export interface LongPollApp {
  app: FastifyInstance;
  store: Store;
  limits: Readonly<ServerLimits>;
  /** Stop accepting, answer every parked waiter with shutting_down, close the server. */
  shutdown(): Promise<void>;
}

const JSON_TYPE = "application/json; charset=utf-8";
const OK_BODY = '{"error_code":0}';
const SWEEP_INTERVAL_MS = 60_000;

/** A response ready to write: status, a flat [name, value, ...] header list, and the body bytes. */
interface Prebuilt {
  status: number;
  headers: string[];
  body: Buffer;
}

function prebuild(status: number, json: string, extraHeaders: string[] = []): Prebuilt {
  const body = Buffer.from(json);
  return {
    status,
    headers: ["content-type", JSON_TYPE, "content-length", String(body.length), ...extraHeaders],
    body,
  };
}

const TIMEOUT_RESPONSE = prebuild(200, JSON.stringify(errorBody("timeout", TIMEOUT_MESSAGE)));
const SHUTTING_DOWN_RESPONSE = prebuild(
  503,
  JSON.stringify(errorBody("shutting_down", SHUTTING_DOWN_MESSAGE)),
  ["connection", "close"],
);

const kWaiter = Symbol("waiter");
type ParkedResponse = ServerResponse & { [kWaiter]?: Waiter };

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
  const store = new Store(limits, clock);
  const faultCostNs = BigInt(Math.round((options.faultWakeCostUs ?? 0) * 1000));
  let closing = false;

  const app = Fastify({
    logger: false,
    bodyLimit: limits.maxBodyBytes,
    return503OnClosing: false, // we answer with our own shutting_down body
    forceCloseConnections: "idle",
  });

  app.addContentTypeParser(
    "application/x-www-form-urlencoded",
    { parseAs: "string" },
    (_request, body, done) => done(null, parseQueryString(body as string)),
  );

  const sendError = (reply: FastifyReply, name: ErrorName, message: string): void => {
    if (name === "shutting_down") reply.header("connection", "close");
    reply
      .code(ERRORS[name].status)
      .type(JSON_TYPE)
      .send(JSON.stringify(errorBody(name, message)));
  };

  // Every /get outcome, answered at once or after parking, is written the same way: straight to the
  // ServerResponse from a pre-built status, header list and body Buffer. A value's is built once per
  // notification and shared by every waiter it wakes (not serialised per waiter).
  const prebuilt = new WeakMap<Notification, Prebuilt>();
  const prebuiltFor = (outcome: Outcome): Prebuilt => {
    switch (outcome.kind) {
      case "value": {
        const n = outcome.notification;
        if (outcome.compacted) {
          return prebuild(
            200,
            JSON.stringify({ error_code: 0, value: n.value, version: n.version, compacted: true }),
          );
        }
        let p = prebuilt.get(n);
        if (p === undefined) {
          p = prebuild(200, JSON.stringify({ error_code: 0, value: n.value, version: n.version }));
          prebuilt.set(n, p);
        }
        return p;
      }
      case "timeout":
        return TIMEOUT_RESPONSE;
      case "shutting_down":
        return SHUTTING_DOWN_RESPONSE;
    }
  };
  const writeOutcome = (res: ServerResponse, outcome: Outcome): void => {
    if (res.destroyed || res.writableEnded) return;
    const p = prebuiltFor(outcome);
    res.writeHead(p.status, p.headers);
    res.end(p.body);
  };

  // The wake path. A parked /get is hijacked from fastify's reply pipeline; one shared deliver
  // function and one shared close listener serve every waiter: parking allocates no closures.
  const deliverParked: Deliver = (outcome, context) => {
    const res = context as ParkedResponse;
    if (faultCostNs > 0n) {
      const until = process.hrtime.bigint() + faultCostNs;
      while (process.hrtime.bigint() < until) {
        // the injected fault: a slower wake path
      }
    }
    writeOutcome(res, outcome);
  };
  function onParkedClose(this: ParkedResponse): void {
    // A client that goes away while parked is removed at once; after an answer this is a no-op.
    const waiter = this[kWaiter];
    if (waiter) store.cancel(waiter);
  }

  app.post("/get", (request, reply) => {
    const res = reply.raw as ParkedResponse;
    const outcome = store.get(parseGet(requestParams(request), limits), deliverParked, res);
    if (outcome instanceof Waiter) {
      reply.hijack();
      res[kWaiter] = outcome;
      res.once("close", onParkedClose);
      return;
    }
    reply.hijack();
    writeOutcome(res, outcome);
  });

  app.post("/set", (request, reply) => {
    const { version } = store.set(parseSet(requestParams(request), limits));
    reply.type(JSON_TYPE).send(`{"error_code":0,"version":${version}}`);
  });

  app.post("/clear", (request, reply) => {
    store.clear(parseClear(requestParams(request)));
    reply.type(JSON_TYPE).send(OK_BODY);
  });

  app.get("/stats", (request, reply) => {
    // ?gc=1 collects garbage first where the process runs with --expose-gc (the harness's memory
    // figures); without the flag it is ignored.
    const gc = (globalThis as { gc?: () => void }).gc;
    if ((request.query as { gc?: string }).gc === "1" && gc) gc();
    const s = store.stats();
    const mem = process.memoryUsage();
    const cpu = process.cpuUsage();
    reply.type(JSON_TYPE).send(
      JSON.stringify({
        error_code: 0,
        waiters: s.waiters,
        keys: s.keys,
        values: s.values,
        version: s.version,
        counters: s.counters,
        memory: { rss_bytes: mem.rss, heap_used_bytes: mem.heapUsed, heap_total_bytes: mem.heapTotal },
        cpu: { user_us: cpu.user, system_us: cpu.system },
        limits,
        pid: process.pid,
        uptime_s: process.uptime(),
      }),
    );
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

  const sweep = setInterval(() => store.sweepExpired(), SWEEP_INTERVAL_MS);
  sweep.unref();

  const shutdown = async (): Promise<void> => {
    if (closing) return;
    closing = true;
    clearInterval(sweep);
    store.shutdown();
    await app.close();
  };

  return { app, store, limits, shutdown };
}

/** Query string, then body (form or JSON) on top, as Tornado's get_argument sees them. */
function requestParams(request: FastifyRequest): Params {
  const body = request.body;
  if (body !== undefined && body !== null && (typeof body !== "object" || Array.isArray(body))) {
    throw new ProtocolError("invalid_input", "a JSON body must be an object of parameters");
  }
  const query = request.query as Params;
  // The common cases (all in the body, or all in the query) need no merged copy.
  let queryEmpty = true;
  for (const _ in query) {
    queryEmpty = false;
    break;
  }
  if (queryEmpty) return (body as Params | undefined) ?? query;
  if (body === undefined || body === null) return query;
  return { ...query, ...(body as Params) };
}
