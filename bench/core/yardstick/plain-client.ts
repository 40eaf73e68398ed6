// The yardstick for the driver's own cost: the plainest long-poll client Node allows, in one file
// that imports nothing of the harness. Each waiter is a `net.connect` socket that writes one seed
// `/get` and counts its first read as the answer; nothing is parsed or recorded. With `--transport
// sse` or `websocket` it writes the reference server's `GET /sse` or `/ws` upgrade instead and
// counts the first bytes after the response head (the 200 or 101) as the message. The harness's driver
// (bench/core/driver/worker.ts) is held to this client's CPU per notification and per connection, measured
// side by side by `npm run driver-study` (docs/perf/2026-11-28-driver-study.md).
//
//   node --import tsx bench/core/yardstick/plain-client.ts --url http://127.0.0.1:PORT --waiters 10000 --window-ms 1000
//
// Prints one JSON line: CPU of this process per connection (its connect ramp) and per notification
// (from the /set it sends to the last first read), and the time from that /set to the last read.
// Needs a server with the seed protocol's GET /stats (the reference server): it fires once every
// waiter is parked there.

import { request } from "node:http";
import { connect, type Socket } from "node:net";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    waiters: { type: "string", default: "10000" },
    "window-ms": { type: "string", default: "1000" },
    key: { type: "string", default: "plain" },
    transport: { type: "string", default: "long-poll" },
  },
});
const transport = values.transport as string;
if (!["long-poll", "sse", "websocket"].includes(transport)) {
  console.error("plain-client: --transport is long-poll, sse or websocket");
  process.exit(2);
}
if (!values.url) {
  console.error("plain-client: --url http://HOST:PORT is required (a seed-protocol server with GET /stats)");
  process.exit(2);
}
const url = new URL(values.url);
const waiters = Number(values.waiters);
const windowMs = Number(values["window-ms"]);
if (!Number.isInteger(waiters) || waiters < 1 || !(windowMs >= 0)) {
  console.error("plain-client: --waiters must be a whole number above 0 and --window-ms at least 0");
  process.exit(2);
}

const body = `key=${encodeURIComponent(values.key)}&timeout=60`;
const query = `key=${encodeURIComponent(values.key)}`;
const getBytes = Buffer.from(
  transport === "sse"
    ? `GET /sse?${query} HTTP/1.1\r\nHost: ${url.host}\r\nAccept: text/event-stream\r\n\r\n`
    : transport === "websocket"
      ? `GET /ws?${query} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`
      : `POST /get HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
);
/** A push subscription's first read is its response head: the message is what comes after it. */
const HEAD_END = Buffer.from("\r\n\r\n");

const cpuUs = (): number => {
  const c = process.cpuUsage();
  return c.user + c.system;
};
const sockets: Socket[] = [];
let connected = 0;
let answered = 0;
let errors = 0;
let lastReadNs = 0n;
let onAllAnswered: () => void = () => {};

function open(): void {
  const socket = connect({ host: url.hostname, port: Number(url.port), noDelay: true });
  let first = true;
  let headSeen = transport === "long-poll";
  socket.once("connect", () => {
    connected++;
    socket.write(getBytes);
  });
  socket.on("data", (chunk: Buffer) => {
    if (!first) return;
    if (!headSeen) {
      const end = chunk.indexOf(HEAD_END);
      if (end < 0) return;
      headSeen = true;
      if (end + HEAD_END.length === chunk.length) return; // the head alone: the message comes later
    }
    first = false;
    lastReadNs = process.hrtime.bigint();
    if (++answered === waiters) onAllAnswered();
  });
  socket.on("error", () => errors++);
  sockets.push(socket);
}

function http(method: string, path: string, payload?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: payload ? { "content-type": "application/x-www-form-urlencoded" } : {},
      },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => {
          text += c.toString();
        });
        res.on("end", () => resolve(text));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  // The connect ramp: waiters spread evenly over the window, opened in 1 ms steps.
  const cpuConnect0 = cpuUs();
  const started = performance.now();
  let opened = 0;
  while (opened < waiters) {
    const due = Math.min(waiters, Math.ceil(((performance.now() - started) / windowMs) * waiters) || 1);
    while (opened < due) {
      open();
      opened++;
    }
    if (opened < waiters) await sleep(1);
  }
  for (let i = 0; i < 20_000 && connected + errors < waiters; i++) await sleep(1);
  const cpuConnect = cpuUs() - cpuConnect0;
  // Every waiter parked at the server before the /set.
  let parked = 0;
  for (let i = 0; i < 300 && parked < waiters; i++) {
    parked = Number(JSON.parse(await http("GET", "/stats")).waiters ?? 0);
    if (parked < waiters) await sleep(50);
  }
  if (parked < waiters)
    throw new Error(`only ${parked} of ${waiters} waiters parked at the server after 15 s`);
  await sleep(200); // quiet before the fan-out
  const done = new Promise<void>((resolve) => {
    onAllAnswered = resolve;
  });
  const cpuFanout0 = cpuUs();
  const firedNs = process.hrtime.bigint();
  void http("POST", "/set", `key=${encodeURIComponent(values.key)}&value=x`);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    done.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), 30_000);
    }),
  ]);
  clearTimeout(timer);
  const cpuFanout = cpuUs() - cpuFanout0;
  const result = {
    waiters,
    connected,
    answered,
    errors,
    timed_out: timedOut,
    cpu_per_connection_us: cpuConnect / waiters,
    cpu_per_notification_us: answered > 0 ? cpuFanout / answered : null,
    time_to_last_delivery_ms: answered > 0 ? Number(lastReadNs - firedNs) / 1e6 : null,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  for (const s of sockets) s.destroy();
}

main().catch((error: Error) => {
  console.error(`plain-client: ${error.message}`);
  process.exit(1);
});
