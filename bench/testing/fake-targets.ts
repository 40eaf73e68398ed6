// Small long-poll servers for testing the harness itself, each with one known behaviour:
// - delayMs: answers every waiter exactly delayMs after the set arrives (a known latency);
// - dieOnSet: the process exits when the first set arrives (a target dying mid-run).
// They speak the seed protocol (form bodies) and count parked waiters on GET /stats.
// Run as a script, it prints "fake-target listening on URL" (for spawn tests).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { parse } from "node:querystring";

export interface FakeTargetOptions {
  delayMs?: number;
  dieOnSet?: boolean;
}

const json = (res: ServerResponse, status: number, body: unknown) => {
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

export function createFakeTarget(options: FakeTargetOptions = {}): Server {
  const waiters = new Map<string, Set<ServerResponse>>();
  let parked = 0;
  return createServer(async (req, res) => {
    if (req.method === "GET" && req.url === "/stats")
      return json(res, 200, { error_code: 0, waiters: parked });
    if (req.method === "GET" && req.url === "/healthz") return json(res, 200, { error_code: 0 });
    const form = await readForm(req);
    const key = form.key ?? "";
    if (req.url === "/get") {
      const set = waiters.get(key) ?? new Set();
      waiters.set(key, set);
      set.add(res);
      parked++;
      res.on("close", () => {
        if (set.delete(res)) parked--;
      });
      return;
    }
    if (req.url === "/set") {
      if (options.dieOnSet) process.exit(9);
      const set = waiters.get(key) ?? new Set();
      waiters.delete(key);
      json(res, 200, { error_code: 0 });
      const answer = () => {
        for (const w of set) {
          parked--;
          json(w, 200, { error_code: 0, value: form.value });
        }
        set.clear();
      };
      if (options.delayMs) setTimeout(answer, options.delayMs);
      else answer();
      return;
    }
    json(res, 404, { error_code: 2, error: "not_found" });
  });
}

export async function listenFakeTarget(
  options: FakeTargetOptions = {},
): Promise<{ server: Server; url: string }> {
  const server = createFakeTarget(options);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}` };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { url } = await listenFakeTarget({
    dieOnSet: process.argv.includes("--die-on-set"),
    delayMs: Number(process.env.FAKE_DELAY_MS ?? 0),
  });
  process.stdout.write(`fake-target listening on ${url}\n`);
}
