// Small long-poll servers for testing the harness itself, each with one known behaviour:
// - delayMs: answers every waiter exactly delayMs after the set arrives (a known latency);
// - dieOnSet: the process exits when the first set arrives (a target dying mid-run);
// - dropEvery: every Nth set stores its value but wakes nobody (a known number of lost notifications,
//   counted in `dropped`);
// - statsWaiters: /stats claims this many parked waiters whatever is true (a stats page that lies);
// - leakAborted: a waiter whose client goes away is never removed, and holds 64 KiB (a leak);
// - negativeStats: /stats gives negative CPU and RSS (a stats page that cannot be true);
// - chunkedFlood: every /get is answered at once with a chunked body that never ends (1 KiB chunks,
//   as fast as the client reads, until it closes or 60 s pass);
// - closeAll: every connection is closed as soon as it opens;
// - tinyBacklog: a listen backlog of 1: of many connections at once the kernel drops most SYNs, and
//   those clients connect after their SYN retries (1 s, 3 s, ...), late (with statsWaiters the
//   barrier passes before they are there);
// - answerTwice: every woken waiter gets its answer twice (a second, unasked-for response on its
//   connection: every notification duplicated).
// They speak the seed protocol (form bodies), with the `since` version cursor, and count parked
// waiters on GET /stats. Run as a script, it prints "fake-target listening on URL" (for spawn tests).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { parse } from "node:querystring";

export interface FakeTargetOptions {
  delayMs?: number;
  dieOnSet?: boolean;
  dropEvery?: number;
  statsWaiters?: number;
  leakAborted?: boolean;
  negativeStats?: boolean;
  chunkedFlood?: boolean;
  closeAll?: boolean;
  answerTwice?: boolean;
  tinyBacklog?: boolean;
}

const FLOOD_CHUNK = Buffer.from(`400\r\n${"x".repeat(1024)}\r\n`);

/** An endless chunked answer, written as fast as the peer reads; bounded at 60 s. */
function flood(res: ServerResponse): void {
  res.socket?.write(
    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n",
  );
  const endAt = Date.now() + 60_000;
  const pump = () => {
    const socket = res.socket;
    while (socket && !socket.destroyed && Date.now() < endAt) {
      if (!socket.write(FLOOD_CHUNK)) {
        socket.once("drain", pump);
        return;
      }
    }
    socket?.destroy();
  };
  pump();
}

export interface FakeTarget {
  server: Server;
  url: string;
  /** Notifications not delivered on purpose (dropEvery): parked waiters not woken. */
  readonly dropped: number;
}

interface Waiter {
  res: ServerResponse;
  since: number;
  ballast?: Buffer;
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  if (res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
};

function readForm(req: IncomingMessage): Promise<Record<string, string>> {
  return new Promise((resolve) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => {
      body += c;
    });
    req.on("end", () => resolve(parse(body) as Record<string, string>));
  });
}

export function createFakeTarget(options: FakeTargetOptions = {}): { server: Server; dropped: () => number } {
  const waiters = new Map<string, Set<Waiter>>();
  const values = new Map<string, { value: string; version: number }>();
  let version = 0;
  let sets = 0;
  let dropped = 0;
  let parked = 0;
  const server = createServer(async (req, res) => {
    if (req.method === "GET" && req.url?.startsWith("/stats")) {
      return json(res, 200, {
        error_code: 0,
        waiters: options.statsWaiters ?? parked,
        memory: options.negativeStats
          ? { heap_used_bytes: -1, rss_bytes: -15_000_000 }
          : { heap_used_bytes: process.memoryUsage().heapUsed },
        ...(options.negativeStats ? { cpu: { user_us: -2_000_000, system_us: 0 } } : {}),
      });
    }
    if (req.method === "GET" && req.url === "/healthz") return json(res, 200, { error_code: 0 });
    const form = await readForm(req);
    const key = form.key ?? "";
    if (req.url === "/get") {
      if (options.chunkedFlood) return flood(res);
      const since = form.since === undefined ? -1 : Number(form.since);
      const present = values.get(key);
      if (present && present.version > since) {
        return json(res, 200, { error_code: 0, value: present.value, version: present.version });
      }
      if (form.timeout === "0") return json(res, 200, { error_code: 2, error: "timeout" });
      const set = waiters.get(key) ?? new Set();
      waiters.set(key, set);
      const waiter: Waiter = { res, since };
      if (options.leakAborted) waiter.ballast = Buffer.alloc(64 * 1024, 1);
      set.add(waiter);
      parked++;
      if (!options.leakAborted) {
        res.on("close", () => {
          if (set.delete(waiter)) parked--;
        });
      }
      return;
    }
    if (req.url === "/set") {
      if (options.dieOnSet) process.exit(9);
      sets++;
      const current = { value: form.value ?? "", version: ++version };
      values.set(key, current);
      json(res, 200, { error_code: 0, version: current.version });
      const set = waiters.get(key) ?? new Set<Waiter>();
      if (options.dropEvery && sets % options.dropEvery === 0) {
        dropped += set.size;
        return;
      }
      waiters.delete(key);
      const answer = () => {
        for (const w of set) {
          // Out of the set as it is answered: its 'close' must not count it out a second time.
          set.delete(w);
          parked--;
          json(w.res, 200, { error_code: 0, value: current.value, version: current.version });
          if (options.answerTwice) {
            const body = JSON.stringify({ error_code: 0, value: current.value, version: current.version });
            w.res.socket?.write(
              `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
            );
          }
        }
      };
      if (options.delayMs) setTimeout(answer, options.delayMs);
      else answer();
      return;
    }
    json(res, 404, { error_code: 2, error: "not_found" });
  });
  if (options.closeAll) server.prependListener("connection", (socket) => socket.destroy());
  return { server, dropped: () => dropped };
}

export async function listenFakeTarget(options: FakeTargetOptions = {}): Promise<FakeTarget> {
  const { server, dropped } = createFakeTarget(options);
  const backlog = options.tinyBacklog ? 1 : 1024;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", backlog, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    get dropped() {
      return dropped();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { url } = await listenFakeTarget({
    dieOnSet: process.argv.includes("--die-on-set"),
    delayMs: Number(process.env.FAKE_DELAY_MS ?? 0),
  });
  process.stdout.write(`fake-target listening on ${url}\n`);
}
