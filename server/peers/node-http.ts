// The `node-http` peer: a plain node:http long-poll server speaking the same protocol (seed) with
// no framework, no limits beyond the essentials, and no extensions but /stats and /healthz. It is
// the floor of what Node can do, beside which the reference server is measured. Keep it plain.
//
// Usage: node --import tsx server/peers/node-http.ts [--port 0] [--host 127.0.0.1]
// Prints "node-http-server listening on URL" when ready.

import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { parse } from "node:querystring";
import { parseArgs } from "node:util";

const JSON_HEADERS = { "content-type": "application/json; charset=utf-8" };

interface Waiter {
  res: ServerResponse;
  timer: NodeJS.Timeout;
}

interface Entry {
  value: string | undefined;
  expiresAt: number;
  waiters: Set<Waiter>;
}

export function createNodeHttpServer() {
  const entries = new Map<string, Entry>();
  let parked = 0;

  const send = (res: ServerResponse, status: number, body: string) => {
    res.writeHead(status, { ...JSON_HEADERS, "content-length": Buffer.byteLength(body) });
    res.end(body);
  };
  const error = (res: ServerResponse, status: number, name: string, message: string) =>
    send(res, status, JSON.stringify({ error_code: 2, error: name, message }));

  const drop = (key: string, entry: Entry) => {
    if (entry.waiters.size === 0 && (entry.value === undefined || entry.expiresAt <= Date.now()))
      entries.delete(key);
  };

  return createServer((req, res) => {
    const url = req.url ?? "/";
    if (req.method === "GET" && (url === "/stats" || url === "/stats?gc=1")) {
      const gc = (globalThis as { gc?: () => void }).gc;
      if (url.endsWith("gc=1") && gc) gc();
      const mem = process.memoryUsage();
      const cpu = process.cpuUsage();
      return send(
        res,
        200,
        JSON.stringify({
          error_code: 0,
          waiters: parked,
          keys: entries.size,
          memory: { rss_bytes: mem.rss, heap_used_bytes: mem.heapUsed },
          cpu: { user_us: cpu.user, system_us: cpu.system },
        }),
      );
    }
    if (req.method === "GET" && url === "/healthz") return send(res, 200, '{"error_code":0}');
    if (req.method !== "POST") return error(res, 405, "method_not_allowed", "use POST");
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
      if (body.length > 1024 * 1024) req.destroy();
    });
    req.on("end", () => {
      const q = url.indexOf("?");
      const path = q < 0 ? url : url.slice(0, q);
      const params = { ...parse(q < 0 ? "" : url.slice(q + 1)), ...parse(body) } as Record<
        string,
        string | undefined
      >;
      const key = params.key;
      if (path !== "/get" && path !== "/set" && path !== "/clear")
        return error(res, 404, "not_found", "no route");
      if (path === "/clear") {
        entries.clear();
        return send(res, 200, '{"error_code":0}');
      }
      if (!key) return error(res, 400, "invalid_input", "key is required");
      let entry = entries.get(key);
      if (path === "/set") {
        const value = params.value;
        if (!value) return error(res, 400, "invalid_input", "value is required");
        if (!entry) {
          entry = { value: undefined, expiresAt: 0, waiters: new Set() };
          entries.set(key, entry);
        }
        entry.value = value;
        entry.expiresAt = Date.now() + Number(params.expired ?? 86400) * 1000;
        const answer = JSON.stringify({ error_code: 0, value });
        for (const w of entry.waiters) {
          clearTimeout(w.timer);
          send(w.res, 200, answer);
        }
        parked -= entry.waiters.size;
        entry.waiters.clear();
        send(res, 200, '{"error_code":0}');
        return;
      }
      // /get
      if (entry?.value !== undefined && entry.expiresAt > Date.now()) {
        return send(res, 200, JSON.stringify({ error_code: 0, value: entry.value }));
      }
      if (!entry) {
        entry = { value: undefined, expiresAt: 0, waiters: new Set() };
        entries.set(key, entry);
      }
      const timeoutS = Math.min(Number(params.timeout ?? 3600) || 3600, 3600);
      const waiters = entry.waiters;
      const current = entry;
      const waiter: Waiter = {
        res,
        timer: setTimeout(() => {
          if (!waiters.delete(waiter)) return;
          parked--;
          drop(key, current);
          error(res, 200, "timeout", "no value before the timeout");
        }, timeoutS * 1000),
      };
      waiters.add(waiter);
      parked++;
      res.on("close", () => {
        if (!waiters.delete(waiter)) return;
        clearTimeout(waiter.timer);
        parked--;
        drop(key, current);
      });
    });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { port: { type: "string" }, host: { type: "string" } } });
  const server = createNodeHttpServer();
  server.listen(Number(values.port ?? 8889), values.host ?? "127.0.0.1", 511, () => {
    const { address, port } = server.address() as AddressInfo;
    process.stdout.write(`node-http-server listening on http://${address}:${port} pid=${process.pid}\n`);
  });
  // Parked waiters would hold close() open: drop every connection, then leave.
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
