// A small long-poll server that does NOT speak longpoll-bench's protocol and answers several
// messages at once: an example of "your own server" for the harness
// (docs/own-server.md). Node.js standard library only.
//
//   POST /subscribe  {"topic": T, "after": N?, "wait_ms": MS}
//        → {"cursor": N, "messages": [{"id": N, "data": "..."}, ...]}: every kept message after
//          `after` (at once if there are any, else when one is published), in order; without
//          `after`, the next message published. On timeout: {"cursor": N, "messages": []}.
//   POST /publish    {"topic": T, "data": "..."}  → {"id": N}
//   GET  /metrics    Prometheus text: parked_requests, and the standard process metrics
//                    (process_resident_memory_bytes, process_cpu_seconds_total, nodejs_heap_size_used_bytes)
//
// Usage: node server.mjs --port 8081 [--host 127.0.0.1]

import { createServer } from "node:http";
import { parseArgs } from "node:util";

const KEEP = 256;
const topics = new Map(); // name -> { last: number, messages: [{id, data}], waiters: Set }
let parked = 0;

const topic = (name) => {
  let t = topics.get(name);
  if (!t) {
    t = { last: 0, messages: [], waiters: new Set() };
    topics.set(name, t);
  }
  return t;
};

const send = (res, status, value) => {
  const body = typeof value === "string" ? value : JSON.stringify(value);
  res.writeHead(status, {
    "content-type": typeof value === "string" ? "text/plain" : "application/json",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
};

const after = (t, cursor) => t.messages.filter((m) => m.id > cursor);

function readJson(req) {
  return new Promise((resolve) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      try {
        resolve(JSON.parse(body));
      } catch {
        resolve(undefined);
      }
    });
  });
}

/** The page a Prometheus client library would write (prom-client's default metrics, in part). */
function metricsPage() {
  const cpu = process.cpuUsage();
  const memory = process.memoryUsage();
  return [
    "# TYPE parked_requests gauge",
    `parked_requests ${parked}`,
    "# TYPE process_cpu_seconds_total counter",
    `process_cpu_seconds_total ${(cpu.user + cpu.system) / 1e6}`,
    "# TYPE process_resident_memory_bytes gauge",
    `process_resident_memory_bytes ${memory.rss.toExponential()}`,
    "# TYPE nodejs_heap_size_used_bytes gauge",
    `nodejs_heap_size_used_bytes ${memory.heapUsed}`,
    "",
  ].join("\n");
}

const server = createServer(async (req, res) => {
  if (req.method === "GET" && req.url === "/metrics") return send(res, 200, metricsPage());
  if (req.method !== "POST") return send(res, 404, { error: "not found" });
  const body = await readJson(req);
  if (!body || typeof body.topic !== "string") return send(res, 400, { error: "send JSON with a topic" });
  const t = topic(body.topic);
  if (req.url === "/publish") {
    if (typeof body.data !== "string") return send(res, 400, { error: "data must be a string" });
    const message = { id: ++t.last, data: body.data };
    t.messages.push(message);
    if (t.messages.length > KEEP) t.messages.shift();
    for (const w of t.waiters) w.wake();
    return send(res, 200, { id: message.id });
  }
  if (req.url !== "/subscribe") return send(res, 404, { error: "not found" });
  const cursor = Number.isInteger(body.after) ? body.after : t.last;
  const ready = after(t, cursor);
  if (ready.length > 0) return send(res, 200, { cursor: ready[ready.length - 1].id, messages: ready });
  const waiter = {
    wake() {
      done();
      const got = after(t, cursor);
      send(res, 200, { cursor: got[got.length - 1]?.id ?? cursor, messages: got });
    },
  };
  const timer = setTimeout(
    () => {
      done();
      send(res, 200, { cursor, messages: [] });
    },
    Math.min(Number(body.wait_ms) || 30_000, 3_600_000),
  );
  const done = () => {
    clearTimeout(timer);
    if (t.waiters.delete(waiter)) parked--;
  };
  t.waiters.add(waiter);
  parked++;
  res.on("close", done);
});

const { values } = parseArgs({ options: { port: { type: "string" }, host: { type: "string" } } });
server.keepAliveTimeout = 65_000;
server.listen(Number(values.port ?? 8081), values.host ?? "127.0.0.1", 4096, () => {
  const { address, port } = /** @type {import("node:net").AddressInfo} */ (server.address());
  console.log(`batch-server listening on http://${address}:${port}`);
});
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
