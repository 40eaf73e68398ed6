// GET /ws: a key's values as WebSocket messages, resumed with since after a reconnect with nothing
// lost, duplicated or reordered; woken by /set like a parked /get; closed at shutdown; a client
// that does not read is cut; bad messages get an error and the socket stays.

import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, test } from "node:test";
import { request } from "undici";
import { WebSocket } from "ws";
import { clientFrame, WebSocketParser, webSocketAccept } from "../bench/core/driver/push-parsers.ts";
import { redisMissing } from "../bench/core/targets/redis-server.ts";
import { createApp, DEFAULT_LIMITS } from "./app.ts";
import { pushServer, setUntilCut, stopRedis } from "./testing/push-server.ts";

const NO_REDIS = redisMissing();
after(stopRedis);

interface Client {
  ws: WebSocket;
  messages: Record<string, unknown>[];
  until(n: number): Promise<void>;
  closed: Promise<{ code: number; reason: string }>;
}

function open(url: string, path: string, headers: Record<string, string> = {}): Promise<Client> {
  const ws = new WebSocket(url.replace(/^http/, "ws") + path, { headers });
  const messages: Record<string, unknown>[] = [];
  const waiting: { n: number; resolve: () => void }[] = [];
  const check = () => {
    for (const w of [...waiting]) if (messages.length >= w.n) w.resolve();
  };
  ws.on("message", (data) => {
    messages.push(JSON.parse(data.toString()) as Record<string, unknown>);
    check();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  return new Promise((resolve, reject) => {
    ws.once("open", () =>
      resolve({
        ws,
        messages,
        closed,
        until: (n) =>
          new Promise<void>((r) => {
            waiting.push({ n, resolve: r });
            check();
          }),
      }),
    );
    ws.once("error", reject);
  });
}

async function parked(server: { broker: { parkedCount(): number } }, n: number): Promise<void> {
  for (let i = 0; i < 200 && server.broker.parkedCount() !== n; i++)
    await new Promise((r) => setTimeout(r, 10));
  assert.equal(server.broker.parkedCount(), n);
}

for (const kind of ["memory", "redis"] as const) {
  test(`${kind}: subscribe, reconnect with since: nothing lost, duplicated or reordered`, {
    skip: kind === "redis" ? (NO_REDIS ?? false) : false,
  }, async (t) => {
    const { server, url, set } = await pushServer(t, kind, "ws-test:");
    // One key at the upgrade, a second by message: two parked waiters.
    const first = await open(url, "/ws?key=news");
    first.ws.send(JSON.stringify({ subscribe: "sport" }));
    await parked(server, 2);
    for (const v of ["m1", "m2", 'quote " and\nline']) await set("news", v);
    await set("sport", "s1");
    await first.until(4);
    assert.deepEqual(
      first.messages.map((m) => [m.key, m.value]),
      [
        ["news", "m1"],
        ["news", "m2"],
        ["news", 'quote " and\nline'],
        ["sport", "s1"],
      ],
    );
    const lastSeen = first.messages[2]?.version as number;
    first.ws.close();
    await first.closed;
    await parked(server, 0);
    // While it is away: three more.
    for (const v of ["m4", "m5", "m6"]) await set("news", v);
    const again = await open(url, `/ws?key=news&since=${lastSeen}`);
    await again.until(3);
    assert.deepEqual(
      again.messages.map((m) => m.value),
      ["m4", "m5", "m6"],
    );
    const versions = [...first.messages.slice(0, 3), ...again.messages].map((m) => m.version as number);
    assert.deepEqual(
      versions,
      [...versions].sort((a, b) => a - b),
      "versions in order",
    );
    assert.equal(new Set(versions).size, 6, "none twice");
    // Unsubscribe: the waiter leaves at once.
    again.ws.send(JSON.stringify({ unsubscribe: "news" }));
    await parked(server, 0);
    again.ws.close();
  });
}

test("bad messages get an error and the socket stays; shutdown closes with 1001", async () => {
  const server = createApp();
  const url = await server.listen({ host: "127.0.0.1", port: 0 });
  const c = await open(url, "/ws");
  c.ws.send("subscribe me");
  c.ws.send(JSON.stringify({ subscribe: 7 }));
  c.ws.send(JSON.stringify({ subscribe: "k", since: "yesterday" }));
  await c.until(3);
  assert.match(String(c.messages[0]?.message), /not JSON; send \{"subscribe"/);
  assert.equal(c.messages[1]?.error, "invalid_input");
  assert.match(String(c.messages[2]?.message), /since/);
  c.ws.send(JSON.stringify({ subscribe: "k" }));
  await parked(server, 1);
  await server.shutdown();
  assert.deepEqual(await c.closed, { code: 1001, reason: "shutting_down" });
});

test("an upgrade elsewhere is 404, a bad key 400; a client that never reads is cut", async (t) => {
  const server = createApp({ limits: { ...DEFAULT_LIMITS, maxValueBytes: 64 * 1024 } });
  const url = await server.listen({ host: "127.0.0.1", port: 0 });
  t.after(() => server.shutdown());
  await assert.rejects(open(url, "/socket"), /Unexpected server response: 404/);
  await assert.rejects(open(url, "/ws?key="), /Unexpected server response: 400/);
  // A raw client: the handshake, then it never reads. 40 values of 64 KiB (2.5 MiB) overflow what
  // the kernel's buffers and MAX_UNSENT_BYTES hold, and the server cuts it.
  const { port } = new URL(url);
  const raw = connect(Number(port), "127.0.0.1");
  raw.write(
    "GET /ws?key=big HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  );
  await new Promise((r) => raw.once("data", r));
  raw.pause();
  await parked(server, 1);
  const sets = await setUntilCut(server, url, "big");
  assert.equal(server.broker.parkedCount(), 0, `cut after ${sets} values of 64 KiB`);
  raw.destroy();
});

test("the front's codec and the ws package's serve the same protocol", async (t) => {
  const server = createApp();
  const url = await server.listen({ host: "127.0.0.1", port: 0 });
  t.after(() => server.shutdown());
  const front = await open(url, "/ws?key=same");
  // A header the front's narrow reader declines: the upgrade goes to fastify's server and `ws`.
  const fallback = await open(url, "/ws?key=same", { expect: "100-continue" });
  await parked(server, 2);
  assert.equal(server.front.handedOff(), 1, "one on each path");
  for (const v of ["x", "y"])
    await request(`${url}/set`, {
      method: "POST",
      body: `key=same&value=${v}`,
      headers: { "content-type": "application/x-www-form-urlencoded" },
    }).then((r) => r.body.text());
  await Promise.all([front.until(2), fallback.until(2)]);
  assert.deepEqual(front.messages, fallback.messages);
  front.ws.close();
  fallback.ws.close();
});

test("the front's codec: a fragmented subscribe, a ping answered, an unmasked frame closed with 1002", async (t) => {
  const server = createApp();
  const url = await server.listen({ host: "127.0.0.1", port: 0 });
  t.after(() => server.shutdown());
  const key = "dGhlIHNhbXBsZSBub25jZQ==";
  const raw = connect(Number(new URL(url).port), "127.0.0.1");
  const parser = new WebSocketParser(webSocketAccept(key));
  const seen = { opened: 0, messages: [] as string[], ended: [] as string[] };
  let received = Buffer.alloc(0);
  raw.on("data", (b: Buffer) => {
    received = Buffer.concat([received, b]);
    parser.feed(b, 0, b.length, {
      opened: () => seen.opened++,
      message: (m) => seen.messages.push(m),
      ping: () => {},
      ended: (how) => seen.ended.push(how),
    });
  });
  raw.write(
    `GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  const text = Buffer.from(JSON.stringify({ subscribe: "frag" }));
  const first = clientFrame(0x1, text.subarray(0, 5));
  first[0] = 0x01; // FIN clear: a first fragment
  raw.write(first);
  raw.write(clientFrame(0x9, Buffer.from("hi"))); // a ping between the fragments
  raw.write(clientFrame(0x0, text.subarray(5))); // the last fragment
  await parked(server, 1);
  await request(`${url}/set`, {
    method: "POST",
    body: "key=frag&value=v1",
    headers: { "content-type": "application/x-www-form-urlencoded" },
  }).then((r) => r.body.text());
  for (let i = 0; i < 100 && seen.messages.length < 1; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(seen.opened, 1);
  // The pong carries the ping's payload (the parser passes pongs over: looked for in the bytes).
  assert.ok(received.includes(Buffer.from([0x8a, 0x02, 0x68, 0x69])), "a pong with the ping's payload");
  assert.equal(JSON.parse(seen.messages[0] as string).value, "v1");
  raw.write(Buffer.from([0x81, 0x01, 0x41])); // unmasked: the standard forbids it
  for (let i = 0; i < 100 && seen.ended.length < 1; i++) await new Promise((r) => setTimeout(r, 10));
  assert.match(seen.ended[0] as string, /closed by the server \(1002 client frames must be masked\)/);
  await parked(server, 0);
  raw.destroy();
});
