// An example server that only pushes: Server-Sent Events and no long poll, the shape of many real
// event APIs. Its profile has no "wait", so the harness measures it over --transports sse only.
// Node.js standard library only.
//
//   GET  /events/<topic>   text/event-stream: every message published on the topic from now on,
//                          each `id: <n>` and `data: <message>`; with Last-Event-ID: n, first every
//                          kept message after n (the last 1,000 of a topic are kept)
//   POST /publish/<topic>  (body: the message, text) → {"id": n}
//   GET  /status           {"subscribers": open streams, "rss_bytes", "cpu_user_us", "cpu_system_us"}
//   GET  /healthz          ok
//
// Usage: node server.mjs --port 8084 [--host 127.0.0.1]

import { createServer } from "node:http";
import { parseArgs } from "node:util";

const KEEP = 1_000;
const topics = new Map(); // name -> { last, kept: [{ id, data }], streams: Set<response> }
let subscribers = 0;

const topic = (name) => {
  let t = topics.get(name);
  if (!t) {
    t = { last: 0, kept: [], streams: new Set() };
    topics.set(name, t);
  }
  return t;
};

const event = (id, data) =>
  `id: ${id}\n${data
    .split(/\r\n|\r|\n/)
    .map((l) => `data: ${l}`)
    .join("\n")}\n\n`;

const json = (res, status, value) => {
  const body = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
};

const server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://x");
  const [, route, name] = url.pathname.split("/");
  if (req.method === "GET" && route === "events" && name) {
    const t = topic(decodeURIComponent(name));
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store" });
    const after = Number(req.headers["last-event-id"]);
    if (Number.isSafeInteger(after)) for (const m of t.kept) if (m.id > after) res.write(event(m.id, m.data));
    res.write(": open\n\n"); // the head goes out now, not with the first message
    t.streams.add(res);
    subscribers++;
    res.on("close", () => {
      t.streams.delete(res);
      subscribers--;
    });
    return;
  }
  if (req.method === "POST" && route === "publish" && name) {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      const t = topic(decodeURIComponent(name));
      const id = ++t.last;
      t.kept.push({ id, data: body });
      if (t.kept.length > KEEP) t.kept.shift();
      const text = event(id, body);
      for (const s of t.streams) s.write(text);
      json(res, 200, { id });
    });
    return;
  }
  if (req.method === "GET" && url.pathname === "/status") {
    const cpu = process.cpuUsage();
    json(res, 200, {
      subscribers,
      rss_bytes: process.memoryUsage().rss,
      cpu_user_us: cpu.user,
      cpu_system_us: cpu.system,
    });
    return;
  }
  if (url.pathname === "/healthz") return json(res, 200, { ok: true });
  json(res, 404, { error: "not_found" });
});

const { values } = parseArgs({
  options: { port: { type: "string", default: "8084" }, host: { type: "string", default: "127.0.0.1" } },
});
server.keepAliveTimeout = 0;
server.requestTimeout = 0; // streams stay open for as long as their clients do
server.listen(Number(values.port), values.host, () => {
  const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
  console.log(`sse-server listening on http://${values.host}:${port}`);
});
const stop = () => server.close(() => process.exit(0)) && server.closeAllConnections();
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
