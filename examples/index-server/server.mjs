// An example long-poll server whose re-poll asks for the NEXT index: a client that saw event N asks
// `from=N+1` (the style of event APIs that number their events). A wait without `from` sees only
// events published after it arrives. Node.js standard library only.
//
//   GET  /events?topic=T&wait=S[&from=N]
//        → {"last": L, "events": [{"index": i, "data": "..."}, ...]}: every kept event with index ≥ N
//          (at once if there are any, else when one is published); without `from`, the next event.
//          On timeout after S seconds: {"last": L, "events": []}. An index older than what is kept
//          is 400 {"error": "index_expired"}.
//   POST /publish?topic=T  (body: the data, text)  → {"index": N}
//   GET  /metrics  Prometheus text: waiting_requests, and the standard process metrics
//
// Usage: node server.mjs --port 8082 [--host 127.0.0.1]

import { createServer } from "node:http";
import { parseArgs } from "node:util";

const KEEP = 256;
const topics = new Map(); // name -> { last, events: [{index, data}], waiters: Set }
let waiting = 0;

const topic = (name) => {
  let t = topics.get(name);
  if (!t) {
    t = { last: 0, events: [], waiters: new Set() };
    topics.set(name, t);
  }
  return t;
};

const send = (res, status, value) => {
  const body = typeof value === "string" ? value : JSON.stringify(value);
  res.writeHead(status, {
    "content-type": typeof value === "string" ? "text/plain; version=0.0.4" : "application/json",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
};

const from = (t, index) => t.events.filter((e) => e.index >= index);

function readText(req) {
  return new Promise((resolve) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => resolve(body));
  });
}

function metricsPage() {
  const cpu = process.cpuUsage();
  const memory = process.memoryUsage();
  return [
    `waiting_requests ${waiting}`,
    `process_cpu_seconds_total ${(cpu.user + cpu.system) / 1e6}`,
    `process_resident_memory_bytes ${memory.rss.toExponential()}`,
    `nodejs_heap_size_used_bytes ${memory.heapUsed}`,
    "",
  ].join("\n");
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? "/", "http://x");
  if (req.method === "GET" && url.pathname === "/metrics") return send(res, 200, metricsPage());
  const name = url.searchParams.get("topic");
  if (!name) return send(res, 400, { error: "name a topic" });
  const t = topic(name);
  if (req.method === "POST" && url.pathname === "/publish") {
    const event = { index: ++t.last, data: await readText(req) };
    t.events.push(event);
    if (t.events.length > KEEP) t.events.shift();
    for (const w of t.waiters) w.wake();
    return send(res, 200, { index: event.index });
  }
  if (req.method !== "GET" || url.pathname !== "/events") return send(res, 404, { error: "not found" });
  const raw = url.searchParams.get("from");
  const index = raw === null ? t.last + 1 : Number(raw);
  if (!Number.isInteger(index) || index < 1) return send(res, 400, { error: "from must be an index" });
  if (t.events.length > 0 && index < t.events[0].index) return send(res, 400, { error: "index_expired" });
  const ready = from(t, index);
  if (ready.length > 0) return send(res, 200, { last: ready[ready.length - 1].index, events: ready });
  const waiter = {
    wake() {
      done();
      const got = from(t, index);
      send(res, 200, { last: got[got.length - 1]?.index ?? t.last, events: got });
    },
  };
  const timer = setTimeout(
    () => {
      done();
      send(res, 200, { last: t.last, events: [] });
    },
    Math.min((Number(url.searchParams.get("wait")) || 30) * 1000, 3_600_000),
  );
  const done = () => {
    clearTimeout(timer);
    if (t.waiters.delete(waiter)) waiting--;
  };
  t.waiters.add(waiter);
  waiting++;
  res.on("close", done);
});

const { values } = parseArgs({ options: { port: { type: "string" }, host: { type: "string" } } });
server.keepAliveTimeout = 65_000;
server.listen(Number(values.port ?? 8082), values.host ?? "127.0.0.1", 4096, () => {
  const { address, port } = /** @type {import("node:net").AddressInfo} */ (server.address());
  console.log(`index-server listening on http://${address}:${port}`);
});
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
