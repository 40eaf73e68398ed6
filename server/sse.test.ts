// GET /sse: a key's values as Server-Sent Events, resumed with Last-Event-ID after a reconnect with
// nothing lost, duplicated or reordered; woken by /set like a parked /get; ended at shutdown.

import assert from "node:assert/strict";
import { type ClientRequest, request as httpRequest, type IncomingMessage } from "node:http";
import { connect } from "node:net";
import { after, test } from "node:test";
import { request } from "undici";
import { redisMissing } from "../bench/core/targets/redis-server.ts";
import { createApp, DEFAULT_LIMITS } from "./app.ts";
import { pushServer, setUntilCut, stopRedis } from "./testing/push-server.ts";

/** Without redis-server (scripts/install-peers.sh) the Redis half is skipped, and says so. */
const NO_REDIS = redisMissing();
after(stopRedis);

interface Stream {
  events: { id?: string; event?: string; data: string }[];
  /** Resolves once `n` events (of any kind) have come. */
  until(n: number): Promise<void>;
  close(): void;
  response: Promise<IncomingMessage>;
}

function open(
  url: string,
  path: string,
  lastEventId?: string,
  extraHeaders: Record<string, string> = {},
): Stream {
  const events: Stream["events"] = [];
  let buffer = "";
  const waiting: { n: number; resolve: () => void }[] = [];
  const check = () => {
    for (const w of [...waiting]) if (events.length >= w.n) w.resolve();
  };
  let req: ClientRequest | undefined;
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    const headers = { ...extraHeaders, ...(lastEventId ? { "last-event-id": lastEventId } : {}) };
    req = httpRequest(url + path, { headers }, (res) => {
      resolve(res);
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buffer += chunk;
        for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const e: Stream["events"][number] = { data: "" };
          const data: string[] = [];
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) continue; // a comment (keep-alive)
            const [field, ...rest] = line.split(": ");
            const value = rest.join(": ");
            if (field === "id") e.id = value;
            else if (field === "event") e.event = value;
            else if (field === "data") data.push(value);
          }
          if (data.length === 0 && e.id === undefined && e.event === undefined) continue;
          e.data = data.join("\n");
          events.push(e);
        }
        check();
      });
    });
    req.on("error", reject);
    req.end();
  });
  return {
    events,
    response,
    until: (n) =>
      new Promise<void>((resolve) => {
        waiting.push({ n, resolve });
        check();
      }),
    close: () => req?.destroy(),
  };
}

for (const kind of ["memory", "redis"] as const) {
  test(`${kind}: a stream resumed with Last-Event-ID after a reconnect: nothing lost, duplicated or reordered`, {
    skip: kind === "redis" ? (NO_REDIS ?? false) : false,
  }, async (t) => {
    const { server, url, set: setKey } = await pushServer(t, kind, "sse-test:");
    const set = (value: string) => setKey("news", value);

    const first = open(url, "/sse?key=news");
    const res = await first.response;
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers["content-type"]), /^text\/event-stream/);
    // Parked like a /get: the stats count it.
    for (let i = 0; i < 50 && server.broker.parkedCount() < 1; i++)
      await new Promise((r) => setTimeout(r, 10));
    assert.equal(server.broker.parkedCount(), 1);
    for (const v of ["m1", "m2", "two\nlines"]) await set(v);
    await first.until(3);
    assert.deepEqual(
      first.events.map((e) => e.data),
      ["m1", "m2", "two\nlines"],
    );
    const lastSeen = first.events[2]?.id as string;
    first.close();
    // While it is away: three more.
    for (const v of ["m4", "m5", "m6"]) await set(v);
    const again = open(url, "/sse?key=news", lastSeen);
    await again.until(3);
    assert.deepEqual(
      again.events.map((e) => e.data),
      ["m4", "m5", "m6"],
    );
    const ids = [...first.events, ...again.events].map((e) => Number(e.id));
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
      "versions in order",
    );
    assert.equal(new Set(ids).size, 6, "none twice");
    // A later set reaches the resumed stream too, and the first one's waiter is gone.
    await set("m7");
    await again.until(4);
    assert.equal(again.events[3]?.data, "m7");
    assert.equal(server.broker.parkedCount(), 1);
    again.close();
  });
}

test("a bad Last-Event-ID is refused; shutdown ends a stream with its own event", async () => {
  const server = createApp();
  const url = await server.listen({ host: "127.0.0.1", port: 0 });
  const bad = await request(`${url}/sse?key=k`, { headers: { "last-event-id": "yesterday" } });
  assert.equal(bad.statusCode, 400);
  assert.match(await bad.body.text(), /Last-Event-ID must be a version/);
  const s = open(url, "/sse?key=k");
  await s.response;
  for (let i = 0; i < 50 && server.broker.parkedCount() < 1; i++) await new Promise((r) => setTimeout(r, 10));
  await server.shutdown();
  await s.until(1);
  assert.equal(s.events[0]?.event, "shutting_down");
});

test("the front serves the plain request on its raw socket, fastify any other; both send the same events", async (t) => {
  const server = createApp();
  const url = await server.listen({ host: "127.0.0.1", port: 0 });
  t.after(() => server.shutdown());
  const fast = open(url, "/sse?key=both");
  // A header the front's reader declines (it hands such requests to Node's parser and fastify).
  const slow = open(url, "/sse?key=both", undefined, { "transfer-encoding": "chunked" });
  await Promise.all([fast.response, slow.response]);
  for (let i = 0; i < 100 && server.broker.parkedCount() < 2; i++)
    await new Promise((r) => setTimeout(r, 10));
  assert.equal(server.front.handedOff(), 1, "one stream on fastify's side, one on the front's");
  for (const v of ["a", "b\nc"]) {
    await request(`${url}/set`, {
      method: "POST",
      body: `key=both&value=${encodeURIComponent(v)}`,
      headers: { "content-type": "application/x-www-form-urlencoded" },
    }).then((r) => r.body.text());
  }
  await Promise.all([fast.until(2), slow.until(2)]);
  assert.deepEqual(fast.events, slow.events);
  assert.deepEqual(
    fast.events.map((e) => e.data),
    ["a", "b\nc"],
  );
  fast.close();
  slow.close();
});

test("a client that never reads its stream is cut on the front's path too", async (t) => {
  const server = createApp({ limits: { ...DEFAULT_LIMITS, maxValueBytes: 64 * 1024 } });
  const url = await server.listen({ host: "127.0.0.1", port: 0 });
  t.after(() => server.shutdown());
  const raw = connect(Number(new URL(url).port), "127.0.0.1");
  raw.write("GET /sse?key=big HTTP/1.1\r\nHost: x\r\n\r\n");
  await new Promise((r) => raw.once("data", r));
  raw.pause();
  for (let i = 0; i < 100 && server.broker.parkedCount() < 1; i++)
    await new Promise((r) => setTimeout(r, 10));
  assert.equal(server.front.handedOff(), 0, "served by the front");
  const sets = await setUntilCut(server, url, "big");
  assert.equal(server.broker.parkedCount(), 0, `cut after ${sets} values of 64 KiB`);
  raw.destroy();
});
