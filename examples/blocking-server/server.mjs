// An example long-poll server in the blocking-query style: the answer's index is in a response
// header (X-Index) and the client sends it back as a query parameter (`index=N`) with a wait
// duration (`wait=30s`), as key-value stores with blocking queries do. A wait without `index` sees
// only writes made after it arrives. Node.js standard library only.
//
//   GET  /v1/kv/K?wait=30s[&index=N]
//        → [{"ModifyIndex": i, "Value": "..."}, ...], X-Index: the last index in the answer: every
//          kept write of K with index > N (at once if there are any, else when one is made); without
//          `index`, the next write. On timeout: [] with X-Index: K's current index.
//   PUT  /v1/kv/K  (body: the value, text)  → true, X-Index: its index
//   GET  /metrics  Prometheus text: blocking_queries, and the standard process metrics
//
// Usage: node server.mjs --port 8083 [--host 127.0.0.1]

import { createServer } from "node:http";
import { parseArgs } from "node:util";

const KEEP = 256;
const keys = new Map(); // name -> { last, writes: [{ModifyIndex, Value}], waiters: Set }
let blocking = 0;

const entry = (name) => {
  let k = keys.get(name);
  if (!k) {
    k = { last: 0, writes: [], waiters: new Set() };
    keys.set(name, k);
  }
  return k;
};

const send = (res, status, value, index) => {
  const body = typeof value === "string" ? value : JSON.stringify(value);
  res.writeHead(status, {
    "content-type": typeof value === "string" ? "text/plain; version=0.0.4" : "application/json",
    "content-length": Buffer.byteLength(body),
    ...(index === undefined ? {} : { "x-index": String(index) }),
  });
  res.end(body);
};

const after = (k, index) => k.writes.filter((w) => w.ModifyIndex > index);

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
    `blocking_queries ${blocking}`,
    `process_cpu_seconds_total ${(cpu.user + cpu.system) / 1e6}`,
    `process_resident_memory_bytes ${memory.rss.toExponential()}`,
    `nodejs_heap_size_used_bytes ${memory.heapUsed}`,
    "",
  ].join("\n");
}

/** "30s", "2m", "500ms" → milliseconds (a blocking query's wait). */
const duration = (text) => {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text ?? "");
  if (!m) return 30_000;
  return Number(m[1]) * (m[2] === "ms" ? 1 : m[2] === "m" ? 60_000 : 1_000);
};

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? "/", "http://x");
  if (req.method === "GET" && url.pathname === "/metrics") return send(res, 200, metricsPage());
  const m = /^\/v1\/kv\/(.+)$/.exec(url.pathname);
  if (!m) return send(res, 404, { error: "not found" });
  const k = entry(decodeURIComponent(m[1]));
  if (req.method === "PUT") {
    const write = { ModifyIndex: ++k.last, Value: await readText(req) };
    k.writes.push(write);
    if (k.writes.length > KEEP) k.writes.shift();
    for (const w of k.waiters) w.wake();
    return send(res, 200, true, write.ModifyIndex);
  }
  if (req.method !== "GET") return send(res, 405, { error: "GET or PUT" });
  const raw = url.searchParams.get("index");
  const index = raw === null ? k.last : Number(raw);
  if (!Number.isInteger(index) || index < 0) return send(res, 400, { error: "index must be an integer" });
  const ready = after(k, index);
  if (ready.length > 0) return send(res, 200, ready, ready[ready.length - 1].ModifyIndex);
  const waiter = {
    wake() {
      done();
      const got = after(k, index);
      send(res, 200, got, got[got.length - 1]?.ModifyIndex ?? k.last);
    },
  };
  const timer = setTimeout(
    () => {
      done();
      send(res, 200, [], k.last);
    },
    Math.min(duration(url.searchParams.get("wait")), 3_600_000),
  );
  const done = () => {
    clearTimeout(timer);
    if (k.waiters.delete(waiter)) blocking--;
  };
  k.waiters.add(waiter);
  blocking++;
  res.on("close", done);
});

const { values } = parseArgs({ options: { port: { type: "string" }, host: { type: "string" } } });
server.keepAliveTimeout = 65_000;
server.listen(Number(values.port ?? 8083), values.host ?? "127.0.0.1", 4096, () => {
  const { address, port } = /** @type {import("node:net").AddressInfo} */ (server.address());
  console.log(`blocking-server listening on http://${address}:${port}`);
});
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
