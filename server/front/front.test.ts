// The front over real sockets: what it serves itself, what it hands to fastify, and that a client
// cannot tell the two apart except by speed.

import assert from "node:assert/strict";
import { createServer } from "node:http";
import { type AddressInfo, connect, createServer as createNetServer, type Socket } from "node:net";
import { after, before, describe, type TestContext, test } from "node:test";
import { request } from "undici";
import { createApp, DEFAULT_LIMITS, type LongPollApp, type ServerLimits } from "../app.ts";
import { MemoryBroker } from "../memory-broker.ts";
import { ResponseCache } from "../responses.ts";
import { FakeClock } from "../testing/fake-clock.ts";
import { postForm, type RawAnswer, RawClient } from "../testing/raw-client.ts";
import { createFront, writeDirect } from "./front.ts";

async function start(limits: Partial<ServerLimits> = {}) {
  const server: LongPollApp = createApp({ limits, clock: new FakeClock() });
  const url = await server.listen({ host: "127.0.0.1", port: 0 });
  const clients: RawClient[] = [];
  const client = () => {
    const c = new RawClient(url);
    clients.push(c);
    return c;
  };
  const set = async (key: string, value: string) => {
    const res = await request(`${url}/set`, {
      method: "POST",
      body: `key=${key}&value=${value}`,
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    return (await res.body.json()) as { version: number };
  };
  const parked = async (n: number) => {
    for (let i = 0; i < 300 && server.broker.parkedCount() !== n; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(server.broker.parkedCount(), n, `the server should hold ${n} parked waiters`);
  };
  const close = async () => {
    for (const c of clients) c.close();
    await server.shutdown();
  };
  return { server, url, client, set, parked, close };
}

const json = (a: RawAnswer) => JSON.parse(a.body) as Record<string, unknown>;

describe("the front's fast path (plain POST /get)", () => {
  let s: Awaited<ReturnType<typeof start>>;
  before(async () => {
    s = await start();
  });
  after(async () => {
    await s.close();
  });

  test("parks and answers on the raw connection, which stays open for the re-poll", async () => {
    const c = s.client();
    c.send(postForm("/get", "key=fast"));
    await s.parked(1);
    assert.equal(s.server.front.connections(), 1, "the front holds the parked connection");
    const { version } = await s.set("fast", "one");
    const first = await c.next();
    assert.equal(first.status, 200);
    assert.deepEqual(json(first), { error_code: 0, value: "one", version });
    assert.equal(first.headers["content-type"], "application/json; charset=utf-8");
    assert.equal(Number(first.headers["content-length"]), Buffer.byteLength(first.body));
    assert.ok(first.headers.date, "a Date header");
    assert.equal(first.headers["keep-alive"], "timeout=72");

    c.send(postForm("/get", `key=fast&since=${version}`));
    await s.parked(1);
    await s.set("fast", "two");
    assert.equal(json(await c.next()).value, "two");
    assert.equal(s.server.front.connections(), 1, "still the front's, never handed to fastify");
  });

  test("pipelined requests are answered in order: the second waits for the parked first", async () => {
    const c = s.client();
    c.send(postForm("/get", "key=pipe1") + postForm("/get", "key=pipe2&timeout=0"));
    await s.parked(1);
    await s.set("pipe1", "first");
    assert.equal(json(await c.next()).value, "first");
    assert.equal(json(await c.next()).error, "timeout");
  });

  test("a request it does not serve hands the connection to fastify, unanswered bytes and all", async () => {
    const c = s.client();
    c.send(postForm("/get", "key=hand&timeout=0"));
    assert.equal(json(await c.next()).error, "timeout");
    // /set, then a /get and /stats pipelined behind it: all three answered by fastify, in order.
    c.send(
      postForm("/set", "key=hand&value=v") +
        postForm("/get", "key=hand") +
        "GET /stats HTTP/1.1\r\nHost: test\r\n\r\n",
    );
    const setAnswer = await c.next();
    assert.equal(json(setAnswer).error_code, 0);
    assert.equal(json(await c.next()).value, "v");
    assert.equal(typeof json(await c.next()).waiters, "number");
    // The keep-alive connection is fastify's now; a parked /get on it is still woken.
    c.send(postForm("/get", `key=hand&since=${json(setAnswer).version}`));
    await s.parked(1);
    await s.set("hand", "w");
    assert.equal(json(await c.next()).value, "w");
  });

  test("requests the fast path declines get fastify's usual answers", async () => {
    const chunked = s.client();
    chunked.send(
      "POST /get HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\n" +
        "Transfer-Encoding: chunked\r\n\r\n7\r\nkey=chu\r\n3\r\nnk1\r\n0\r\n\r\n",
    );
    await s.parked(1);
    await s.set("chunk1", "c");
    assert.equal(json(await chunked.next()).value, "c");

    const jsonBody = s.client();
    const body = '{"key":"chunk1","timeout":0}';
    jsonBody.send(
      `POST /get HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    assert.equal(json(await jsonBody.next()).value, "c");

    const http10 = s.client();
    http10.send("POST /get?key=chunk1 HTTP/1.0\r\nContent-Length: 0\r\n\r\n");
    assert.equal(json(await http10.next()).value, "c");

    const bareLf = s.client();
    bareLf.send("POST /get HTTP/1.1\nHost: t\nContent-Length: 0\n\n");
    const bareAnswer = await bareLf.next().catch(() => undefined);
    // Node rejects bare LF (400); either way the front must not serve it as a /get.
    assert.ok(bareAnswer === undefined || bareAnswer.status === 400, JSON.stringify(bareAnswer));

    const huge = s.client();
    huge.send(`POST /get?key=x HTTP/1.1\r\nHost: t\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`);
    assert.equal((await huge.next()).status, 431);

    const noHost = s.client();
    noHost.send("POST /get?key=chunk1&timeout=0 HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    assert.equal((await noHost.next()).status, 400);
  });

  test("errors on the fast path match fastify's, status and body", async () => {
    const fast = s.client();
    const viaFastify = s.client();
    viaFastify.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"); // hands this one to fastify
    await viaFastify.next();
    for (const form of ["timeout=1", "key=a&timeout=soon", `key=${"k".repeat(300)}`]) {
      fast.send(postForm("/get", form));
      viaFastify.send(postForm("/get", form));
      const [a, b] = [await fast.next(), await viaFastify.next()];
      assert.equal(a.status, b.status, form);
      assert.deepEqual(json(a), json(b), form);
      assert.ok(a.status >= 400, form);
    }
    assert.equal(s.server.front.connections() >= 1, true);
  });

  test("a half-close while parked removes the waiter; Connection: close gets its answer, then the close", async () => {
    const c = s.client();
    c.send(postForm("/get", "key=bye"));
    await s.parked(1);
    c.socket.end(); // half-close: a long-poll client that sends FIN has gone
    await s.parked(0);

    const d = s.client();
    d.send(postForm("/get", "key=bye&timeout=0", "Connection: close\r\n"));
    const answer = await d.next();
    assert.equal(json(answer).error, "timeout");
    assert.equal(answer.headers.connection, "close");
    await d.closed;
  });
});

describe("the front at shutdown", () => {
  test("parked fast-path waiters get shutting_down with connection: close; idle ones are closed", async (t) => {
    const s = await start();
    t.after(() => s.close());
    const parkedClient = s.client();
    parkedClient.send(postForm("/get", "key=end"));
    const idle = s.client();
    idle.send(postForm("/get", "key=end&timeout=0"));
    await idle.next();
    await s.parked(1);
    await s.server.shutdown();
    const answer = await parkedClient.next();
    assert.deepEqual(
      [answer.status, json(answer).error, answer.headers.connection],
      [503, "shutting_down", "close"],
    );
    await Promise.all([parkedClient.closed, idle.closed]);
    assert.equal(s.server.front.connections(), 0);
  });
});

describe("the front's limits", () => {
  test("a body over --max-body-bytes goes to fastify, which answers too_large", async (t) => {
    const s = await start({ maxBodyBytes: 100 });
    t.after(() => s.close());
    const c = s.client();
    c.send(postForm("/get", `key=big&pad=${"p".repeat(200)}`));
    const answer = await c.next();
    assert.deepEqual([answer.status, json(answer).error], [413, "too_large"]);
  });
});

/** A front alone on loopback whose idle sweep reads an injected clock (timeout 60 s), closed after the test. */
async function clockedFront(t: TestContext) {
  const store = new MemoryBroker(DEFAULT_LIMITS);
  const clock = new FakeClock();
  const front = createFront({
    broker: store,
    limits: DEFAULT_LIMITS,
    responses: new ResponseCache(),
    fallback: createServer(),
    idleTimeoutMs: 60_000,
    now: () => clock.now(),
  });
  t.after(() => front.close());
  await new Promise<void>((resolve) => front.server.listen(0, "127.0.0.1", resolve));
  return { store, clock, front, port: (front.server.address() as AddressInfo).port };
}

describe("the front's idle sweep", () => {
  test("closes a connection idle past the timeout, never one with a parked /get (injected clock)", async (t) => {
    const { store, clock, front, port } = await clockedFront(t);
    const url = `http://127.0.0.1:${port}`;
    const idle = new RawClient(url);
    const parkedClient = new RawClient(url);
    t.after(() => {
      idle.close();
      parkedClient.close();
    });
    parkedClient.send(postForm("/get", "key=idle"));
    for (let i = 0; i < 300 && (store.stats().waiters !== 1 || front.connections() !== 2); i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(front.sweepIdle(), 0, "nothing is idle before the timeout");
    clock.advance(60_000);
    assert.equal(front.sweepIdle(), 1, "the idle connection is closed; the parked one is not");
    await idle.closed;
    assert.equal(store.stats().waiters, 1, "the parked connection is still open and parked");
    store.set({ key: "idle", value: "v", expiredS: 60 });
    assert.equal(json(await parkedClient.next()).value, "v");
    clock.advance(59_999);
    assert.equal(front.sweepIdle(), 0, "answered 59.999 s ago: not idle yet");
    clock.advance(1);
    assert.equal(front.sweepIdle(), 1);
    await parkedClient.closed; // idle after its answer: closed by the sweep
    assert.equal(front.connections(), 0);
  });
});

describe("the front's idle sweep and push connections", () => {
  test("an event stream and a subscribed WebSocket are never idle; a WebSocket with no subscription is", async (t) => {
    const { store, clock, front, port } = await clockedFront(t);
    const open = (head: string) => {
      const socket = connect(port, "127.0.0.1");
      let received = "";
      socket.on("data", (b: Buffer) => {
        received += b.toString("latin1");
      });
      socket.write(head);
      t.after(() => socket.destroy());
      const closed = new Promise<void>((r) => socket.once("close", () => r()));
      return { received: () => received, closed };
    };
    const upgrade = (path: string) =>
      `GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    open("GET /sse?key=s HTTP/1.1\r\nHost: x\r\n\r\n");
    open(upgrade("/ws?key=w"));
    const bare = open(upgrade("/ws"));
    for (let i = 0; i < 300 && (store.stats().waiters !== 2 || !bare.received().includes("101")); i++)
      await new Promise((r) => setTimeout(r, 5));
    assert.equal(store.stats().waiters, 2);
    clock.advance(60_000);
    assert.equal(front.sweepIdle(), 1, "only the WebSocket with no subscription");
    await bare.closed;
    // Its close frame: 0x88, the length, code 1000 and the reason.
    assert.ok(
      bare.received().includes("\x88\x17\x03\xe8idle: no subscription"),
      JSON.stringify(bare.received()),
    );
    assert.equal(store.stats().waiters, 2, "the stream and the subscribed socket stay");
  });
});

describe("the front's hand-off at shutdown", () => {
  test("an idle keep-alive connection handed to fastify is closed by shutdown", async (t) => {
    const s = await start();
    t.after(() => s.close());
    const c = s.client();
    c.send(postForm("/set", "key=h&value=v"));
    assert.equal((await c.next()).status, 200);
    assert.equal(s.server.front.handedOff(), 1);
    await s.server.shutdown();
    await c.closed;
    assert.equal(s.server.front.handedOff(), 0);
  });
});

describe("writeDirect: an answer written on the descriptor at once", () => {
  /** A connected pair on loopback: the server side's socket, and the client's received bytes. */
  async function pair() {
    const server = createNetServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const accepted = new Promise<Socket>((r) => server.once("connection", r));
    const client = connect((server.address() as AddressInfo).port, "127.0.0.1");
    client.pause(); // reads nothing until told: the server side's send buffer can fill
    const socket = await accepted;
    const received: Buffer[] = [];
    const readAll = (bytes: number) =>
      new Promise<Buffer>((resolve) => {
        let got = 0;
        client.on("data", (b: Buffer) => {
          received.push(b);
          got += b.length;
          if (got >= bytes) resolve(Buffer.concat(received));
        });
        client.resume();
      });
    const close = () => {
      client.destroy();
      socket.destroy();
      server.close();
    };
    return { socket, readAll, close };
  }

  test("an idle socket: every byte written at once; with bytes held by the stream, none", {
    timeout: 10_000,
  }, async (t) => {
    const { socket, readAll, close } = await pair();
    t.after(close);
    const bytes = Buffer.from("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi");
    assert.equal(writeDirect(socket, bytes), bytes.length);
    assert.equal(socket.writableLength, 0, "nothing went through the stream");
    // Bytes held by the stream (corked here) come first: nothing is written ahead of them.
    socket.cork();
    socket.write("held");
    assert.equal(writeDirect(socket, Buffer.from("ahead")), 0);
    socket.write("after");
    socket.uncork();
    const all = Buffer.concat([bytes, Buffer.from("heldafter")]);
    assert.deepEqual(await readAll(all.length), all);
  });

  test("a full send buffer: the rest goes through the stream, later answers queue behind it, order kept", {
    timeout: 10_000,
  }, async (t) => {
    const { socket, readAll, close } = await pair();
    t.after(close);
    const chunks: Buffer[] = [];
    let direct = 0;
    let streamed = false;
    // Numbered 64 KiB chunks until the peer's unread data fills the kernel's buffers.
    for (let i = 0; i < 2_000 && !streamed; i++) {
      const chunk = Buffer.alloc(64 * 1024, i % 251);
      chunks.push(chunk);
      const done = writeDirect(socket, chunk);
      direct += done;
      if (done < chunk.length) {
        socket.write(done === 0 ? chunk : chunk.subarray(done)); // as the front does
        streamed = true;
      }
    }
    assert.ok(streamed, "the send buffer filled");
    assert.ok(direct > 0, "some went on the descriptor first");
    // With bytes queued on the stream, a later answer is not written ahead of them.
    const last = Buffer.from("the last answer");
    chunks.push(last);
    assert.equal(writeDirect(socket, last), 0);
    socket.write(last);
    const expected = Buffer.concat(chunks);
    const got = await readAll(expected.length);
    assert.equal(got.length, expected.length);
    assert.ok(got.equals(expected), "the peer read every byte in the order written");
  });

  test("a peer that is gone: nothing written here", { timeout: 10_000 }, async (t) => {
    const { socket, close } = await pair();
    t.after(close);
    const closed = new Promise((r) => socket.once("close", r));
    socket.destroy();
    await closed;
    assert.equal(writeDirect(socket, Buffer.from("late")), 0);
  });
});
