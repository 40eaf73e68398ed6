// A hostile or buggy client against the real server (real sockets, loopback): a client that never
// reads, requests that never complete, a parked client that pipelines and leaves, bytes that decode
// badly, requests Node's parser refuses. Each case failed before the front bounded its buffers and
// deadlines (see the reliability issue); the figures asserted are the bounds themselves.

import assert from "node:assert/strict";
import { connect } from "node:net";
import { describe, test } from "node:test";
import { request } from "undici";
import { createApp, type Deadlines } from "../app.ts";
import type { BrokerStats } from "../broker.ts";
import { MAX_REQUESTS_BEHIND_GET } from "../fastify-server.ts";
import { closeWaitCount } from "../testing/close-wait.ts";
import { postForm, RawClient } from "../testing/raw-client.ts";

async function start(t: { after(fn: () => unknown): void }, deadlines: Partial<Deadlines> = {}) {
  const server = createApp({ deadlines, limits: { maxHistory: 64 } });
  const url = await server.listen({ host: "127.0.0.1", port: 0 });
  t.after(() => server.shutdown());
  const set = (key: string, value: string) =>
    request(`${url}/set`, {
      method: "POST",
      body: `key=${key}&value=${value}`,
      headers: { "content-type": "application/x-www-form-urlencoded" },
    }).then(async (r) => ({ status: r.statusCode, body: (await r.body.json()) as Record<string, unknown> }));
  const waitFor = async (what: () => boolean, ms = 5_000) => {
    for (const end = Date.now() + ms; !what() && Date.now() < end; )
      await new Promise((r) => setTimeout(r, 10));
    return what();
  };
  return { server, url, set, waitFor };
}

const port = (url: string) => Number(new URL(url).port);

describe("a client that never reads", () => {
  test("pipelined requests for large answers: the server's queued output stays bounded", async (t) => {
    const s = await start(t);
    const big = "v".repeat(60_000);
    for (let i = 0; i < 8; i++) assert.equal((await s.set("big", big)).status, 200);
    // 300 cheap requests, each answered at once with a 60 KB value: 18 MB if all were queued.
    const socket = connect(port(s.url), "127.0.0.1");
    t.after(() => socket.destroy());
    await new Promise((r) => socket.once("connect", r));
    socket.pause(); // never read
    const one = postForm("/get?key=big&since=0&timeout=0", "");
    socket.write(one.repeat(300));
    await new Promise((r) => setTimeout(r, 500));
    const queued = s.server.front.queuedOutputBytes();
    assert.ok(queued < 1024 * 1024, `queued output ${queued} bytes, bounded below 1 MiB`);
    // Reading again: every answer still comes, in order.
    let bytes = 0;
    socket.on("data", (c: Buffer) => {
      bytes += c.length;
    });
    socket.resume();
    assert.ok(await s.waitFor(() => bytes >= 300 * 60_000, 20_000), `read ${bytes} bytes`);
  });
});

describe("deadlines", () => {
  test("a head dripped one byte at a time is answered 408 and closed at the head deadline (injected clock)", async (t) => {
    const server = createApp({ deadlines: { headersMs: 10_000, requestMs: 30_000 } });
    // The sweep is driven by hand with a time of the test's choosing: no sleeping for 10 s.
    const url = await server.listen({ host: "127.0.0.1", port: 0 });
    t.after(() => server.shutdown());
    const c = new RawClient(url);
    t.after(() => c.close());
    c.send("POST /g");
    assert.ok(await waitUntil(() => server.front.connections() === 1));
    await new Promise((r) => setTimeout(r, 100)); // the first bytes are in
    const front = server.front;
    assert.equal(front.sweepIdle(Date.now() + 9_000), 0, "before the deadline, still reading");
    c.send("e");
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(front.sweepIdle(Date.now() + 10_500), 1, "past it, though bytes keep coming");
    const answer = await c.next();
    assert.equal(answer.status, 408);
    assert.equal(JSON.parse(answer.body).error, "request_timeout");
    await c.closed;
  });

  test("a body that stalls on fastify's path: 408 request_timeout with this protocol's body, then closed", async (t) => {
    const s = await start(t, { headersMs: 500, requestMs: 1_000 });
    const c = new RawClient(s.url);
    t.after(() => c.close());
    c.send(
      "POST /set HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 50\r\n\r\nkey=",
    );
    const answer = await c.next(5_000);
    assert.equal(answer.status, 408);
    assert.deepEqual(
      [JSON.parse(answer.body).error_code, JSON.parse(answer.body).error],
      [2, "request_timeout"],
    );
    await c.closed;
  });
});

async function waitUntil(what: () => boolean, ms = 3_000): Promise<boolean> {
  for (const end = Date.now() + ms; !what() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 5));
  return what();
}

describe("a parked client that pipelines, then leaves", () => {
  test("past the input bound the connection is closed and its waiter leaves at once", async (t) => {
    const s = await start(t);
    const clients = Array.from({ length: 5 }, () => new RawClient(s.url));
    t.after(() => {
      for (const c of clients) c.close();
    });
    for (const c of clients) c.send(postForm("/get", "key=leaver"));
    assert.ok(await s.waitFor(() => s.server.broker.parkedCount() === 5));
    // ~96 KB pipelined behind the parked /get, then the client closes.
    for (const c of clients) {
      c.send(postForm("/get", `key=more&pad=${"p".repeat(1000)}`).repeat(96));
      c.socket.end();
    }
    assert.ok(
      await s.waitFor(() => s.server.broker.parkedCount() === 0),
      `parked after the clients left: ${s.server.broker.parkedCount()}`,
    );
  });
});

describe("one decoding on both paths", () => {
  test("an invalid percent escape is refused alike on the front and on fastify; distinct bytes never share a key", async (t) => {
    const s = await start(t);
    const front = new RawClient(s.url);
    t.after(() => front.close());
    front.send(postForm("/get", "key=%E2%82zz&timeout=0"));
    const viaFront = await front.next();
    const viaFastify = await request(`${s.url}/get?key=%E2%82zz&timeout=0`, { method: "POST" });
    const fastifyBody = (await viaFastify.body.json()) as Record<string, unknown>;
    assert.deepEqual([viaFront.status, JSON.parse(viaFront.body).error], [400, "invalid_input"]);
    assert.deepEqual([viaFastify.statusCode, fastifyBody.error], [400, "invalid_input"]);
    for (const key of ["%ff", "%E2%82"]) {
      const r = await s.set(key, "x");
      assert.deepEqual([r.status, r.body.error], [400, "invalid_input"], key);
    }
    // A valid multi-byte key parked on the front is woken by a /set through fastify.
    const waiter = new RawClient(s.url);
    t.after(() => waiter.close());
    waiter.send(postForm("/get", "key=%E2%82%AC"));
    assert.ok(await s.waitFor(() => s.server.broker.parkedCount() === 1));
    assert.equal((await s.set("%E2%82%AC", "euro")).status, 200);
    assert.equal(JSON.parse((await waiter.next()).body).value, "euro");
  });
});

describe("errors of every kind carry the protocol's body", () => {
  test("Node's parser: CL+TE, bare LF; text/plain is 415; numbers follow one rule", async (t) => {
    const s = await start(t);
    for (const raw of [
      "POST /set HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "POST /set HTTP/1.1\nHost: x\n\n",
    ]) {
      const c = new RawClient(s.url);
      t.after(() => c.close());
      c.send(raw);
      const answer = await c.next();
      const body = JSON.parse(answer.body);
      assert.deepEqual(
        [answer.status, body.error_code, body.error],
        [400, 2, "bad_request"],
        JSON.stringify(raw),
      );
      assert.equal(typeof body.message, "string");
    }
    const text = await request(`${s.url}/set`, {
      method: "POST",
      body: "key=a",
      headers: { "content-type": "text/plain" },
    });
    assert.deepEqual(
      [text.statusCode, ((await text.body.json()) as { error: string }).error],
      [415, "unsupported_media_type"],
    );
    for (const q of ["since=%205", "timeout=%200"]) {
      const r = await request(`${s.url}/get?key=n&${q}`, { method: "POST" });
      assert.equal(r.statusCode, 400, q);
      await r.body.dump();
    }
  });
});

describe("shutdown mid-request", () => {
  test("a request whose body is still arriving gets shutting_down, on either path, not a bare EOF", async (t) => {
    const s = await start(t);
    const viaFront = new RawClient(s.url);
    const viaFastify = new RawClient(s.url);
    t.after(() => {
      viaFront.close();
      viaFastify.close();
    });
    viaFront.send(
      "POST /get HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 50\r\n\r\nkey=",
    );
    viaFastify.send(
      "POST /set HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 50\r\n\r\nkey=",
    );
    await new Promise((r) => setTimeout(r, 200));
    await s.server.shutdown();
    for (const c of [viaFront, viaFastify]) {
      const answer = await c.next();
      assert.deepEqual([answer.status, JSON.parse(answer.body).error], [503, "shutting_down"]);
      await c.closed;
    }
  });
});

describe("pipelining behind a parked /get", () => {
  test("a /set pipelined behind a parked /get of its key takes effect at once; answers in order", async (t) => {
    const s = await start(t);
    const c = new RawClient(s.url);
    t.after(() => c.close());
    c.send(postForm("/get", "key=pipe&timeout=30"));
    assert.ok(await s.waitFor(() => s.server.broker.parkedCount() === 1));
    c.send(postForm("/set", "key=pipe&value=now"));
    const first = await c.next();
    const second = await c.next();
    // The value, not the /get's timeout answer: the pipelined /set took effect while it was parked.
    assert.equal(JSON.parse(first.body).value, "now", "the /get's answer first");
    assert.deepEqual([second.status, JSON.parse(second.body).error_code], [200, 0], "then the /set's");
    assert.equal(
      (s.server.broker.stats() as BrokerStats).counters.disconnects,
      0,
      "handed over, not a disconnect",
    );
  });
});

/** A POST with a JSON body, as bytes. */
function postJson(path: string, json: string): string {
  return `POST ${path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`;
}

describe("the JSON path (fastify's connections) bounds what is pipelined behind a parked /get", () => {
  test("a JSON /get with 800 requests pipelined behind, then closed: its waiter leaves, no CLOSE-WAIT", async (t) => {
    const s = await start(t);
    const clients = Array.from({ length: 20 }, () => new RawClient(s.url));
    t.after(() => {
      for (const c of clients) c.close();
    });
    for (const c of clients) c.send(postJson("/get", '{"key":"json-leaver"}'));
    assert.ok(await s.waitFor(() => s.server.broker.parkedCount() === 20));
    for (const c of clients) {
      c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".repeat(800));
      c.socket.end();
    }
    assert.ok(
      await s.waitFor(() => s.server.broker.parkedCount() === 0),
      `parked after the clients left: ${s.server.broker.parkedCount()}`,
    );
    assert.ok(await s.waitFor(() => closeWaitCount(port(s.url)) === 0), "sockets left in CLOSE-WAIT");
  });

  test("pipelined JSON /gets on one connection: past the bound it is closed and none of its waiters stay", async (t) => {
    const s = await start(t);
    const c = new RawClient(s.url);
    t.after(() => c.close());
    c.send(postJson("/get", '{"key":"flood"}').repeat(MAX_REQUESTS_BEHIND_GET * 4));
    await c.closed;
    assert.ok(await s.waitFor(() => s.server.broker.parkedCount() === 0), "waiters left behind");
    // A well-behaved client on another connection is unaffected.
    const w = new RawClient(s.url);
    t.after(() => w.close());
    w.send(postJson("/get", '{"key":"flood"}'));
    assert.ok(await s.waitFor(() => s.server.broker.parkedCount() === 1));
    assert.equal((await s.set("flood", "v")).status, 200);
    assert.equal(JSON.parse((await w.next()).body).value, "v");
  });

  test("within the bound, requests behind a parked JSON /get are all answered, in order", async (t) => {
    const s = await start(t);
    const c = new RawClient(s.url);
    t.after(() => c.close());
    c.send(postJson("/get", '{"key":"patient"}'));
    assert.ok(await s.waitFor(() => s.server.broker.parkedCount() === 1));
    c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".repeat(MAX_REQUESTS_BEHIND_GET - 1));
    c.send(postForm("/set", "key=patient&value=woke"));
    assert.equal(JSON.parse((await c.next()).body).value, "woke");
    for (let i = 0; i < MAX_REQUESTS_BEHIND_GET; i++) {
      assert.equal(JSON.parse((await c.next()).body).error_code, 0, `answer ${i + 2}`);
    }
  });
});

describe("small protocol rules", () => {
  test("no Host, an unknown Expect: the protocol's error body", async (t) => {
    const s = await start(t);
    for (const [raw, status, error] of [
      ["GET /healthz HTTP/1.1\r\n\r\n", 400, "bad_request"],
      [
        "POST /set HTTP/1.1\r\nHost: x\r\nExpect: foo\r\nContent-Length: 0\r\n\r\n",
        417,
        "expectation_failed",
      ],
    ] as const) {
      const c = new RawClient(s.url);
      t.after(() => c.close());
      c.send(raw);
      const answer = await c.next();
      const body = JSON.parse(answer.body);
      assert.deepEqual([answer.status, body.error_code, body.error], [status, 2, error], raw);
      assert.equal(typeof body.message, "string");
      await c.closed;
    }
  });

  test("raw bytes that are not UTF-8 are refused in a form (front and fastify) and a JSON body", async (t) => {
    const s = await start(t);
    const bad = Buffer.from([0xff, 0xfe]).toString("latin1");
    const form = (path: string, body: string, type: string) =>
      `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body, "latin1")}\r\n\r\n${body}`;
    for (const raw of [
      form("/get", `key=${bad}&timeout=0`, "application/x-www-form-urlencoded"), // the front
      form("/set", `key=${bad}&value=v`, "application/x-www-form-urlencoded"), // fastify
      form("/set", `{"key":"${bad}","value":"v"}`, "application/json"),
    ]) {
      const c = new RawClient(s.url);
      t.after(() => c.close());
      c.socket.write(Buffer.from(raw, "latin1"));
      const answer = await c.next();
      assert.deepEqual([answer.status, JSON.parse(answer.body).error], [400, "invalid_input"], raw);
    }
    // U+FFFD sent as UTF-8 is a key like any other.
    assert.equal((await s.set("%EF%BF%BD", "x")).status, 200);
  });

  test("JSON arrays and hex numbers are refused; a __proto__ member is an ordinary name", async (t) => {
    const s = await start(t);
    const json = async (path: string, body: string) => {
      const r = await request(`${s.url}${path}`, {
        method: "POST",
        body,
        headers: { "content-type": "application/json" },
      });
      return { status: r.statusCode, body: (await r.body.json()) as Record<string, unknown> };
    };
    const array = await json("/set", '{"key":["a","b"],"value":"v"}');
    assert.deepEqual([array.status, array.body.error], [400, "invalid_input"]);
    assert.match(String(array.body.message), /"key" must be a string or a number, not an array/);
    for (const timeout of ['"0x1"', '"1e1"', '"Infinity"', '"-1"']) {
      const r = await json("/get", `{"key":"h","timeout":${timeout}}`);
      assert.deepEqual([r.status, r.body.error], [400, "invalid_input"], timeout);
    }
    const proto = await json("/set", '{"__proto__":"x","key":"p","value":"v"}');
    assert.deepEqual([proto.status, proto.body.error_code], [200, 0]);
    const protoObject = await json("/set", '{"__proto__":{"x":1},"key":"p","value":"w"}');
    assert.match(String(protoObject.body.message), /"__proto__" must be a string or a number, not an object/);
    const got = await json("/get", '{"key":"p","timeout":0,"since":0}');
    assert.equal(got.body.value, "v");
  });
});
