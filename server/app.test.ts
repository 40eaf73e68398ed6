// The reference server over real HTTP on port 0; timeouts and expiry through an injected clock.
// The protocol suite runs against both brokers: in memory, and Redis (a real redis-server started
// here, each server on its own key prefix; the Redis broker decides expiry on the injected clock too).

import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { Agent, request } from "undici";
import { RedisServer, redisMissing } from "../bench/core/targets/redis-server.ts";
import { createApp, DEFAULT_LIMITS, type LongPollApp, type ServerLimits } from "./app.ts";
import { RedisBroker } from "./redis/redis-broker.ts";
import { FakeClock } from "./testing/fake-clock.ts";

type BrokerKind = "memory" | "redis";
/** Without redis-server (scripts/install-peers.sh) the Redis broker's half is skipped, and says so. */
const NO_REDIS = redisMissing();
const BROKERS: BrokerKind[] = NO_REDIS ? ["memory"] : ["memory", "redis"];
test("the same suite over the Redis broker", { skip: NO_REDIS ?? false }, () => {});

/** One redis-server for the whole file, started on first use. */
let redis: Promise<RedisServer> | undefined;
let prefixes = 0;
after(async () => {
  if (redis) await (await redis).stop();
});

interface Answer {
  status: number;
  body: Record<string, unknown>;
  raw: string;
  headers: Record<string, string | string[] | undefined>;
}

async function start(limits: Partial<ServerLimits> = {}, kind: BrokerKind = "memory") {
  const clock = new FakeClock();
  let broker: RedisBroker | undefined;
  if (kind === "redis") {
    redis ??= RedisServer.start();
    broker = await RedisBroker.connect({
      url: (await redis).url,
      prefix: `test${++prefixes}:`,
      limits: { ...DEFAULT_LIMITS, ...limits },
      clock,
    });
  }
  const server: LongPollApp = createApp({ limits, clock, broker });
  const url = await server.listen({ host: "127.0.0.1", port: 0 });
  const agent = new Agent({ connections: 2000 });
  const call = async (
    method: string,
    path: string,
    body?: string,
    contentType = "application/x-www-form-urlencoded",
  ): Promise<Answer> => {
    const res = await request(url + path, {
      method: method as "POST",
      body,
      headers: body === undefined ? {} : { "content-type": contentType },
      dispatcher: agent,
    });
    const raw = await res.body.text();
    return { status: res.statusCode, body: JSON.parse(raw), raw, headers: res.headers };
  };
  const stats = async () => (await call("GET", "/stats")).body as { waiters: number; keys: number };
  /** Wait (polling /stats) until the server holds n parked waiters. */
  const parked = async (n: number) => {
    for (let i = 0; i < 500; i++) {
      if ((await stats()).waiters === n) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.fail(`server never held ${n} waiters (has ${(await stats()).waiters})`);
  };
  const close = async () => {
    await server.shutdown();
    await agent.close();
  };
  return { server, url, clock, call, stats, parked, close };
}

type Server = Awaited<ReturnType<typeof start>>;

for (const kind of BROKERS)
  describe(`reference server over HTTP (${kind} broker)`, () => {
    let s: Server;
    before(async () => {
      s = await start({}, kind);
    });
    after(async () => {
      await s.close();
    });

    test("a parked /get is answered by /set (the original form-encoded protocol, byte for byte)", async () => {
      const waiting = s.call("POST", "/get", "key=greeting");
      await s.parked(1);
      const set = await s.call("POST", "/set", "key=greeting&value=hello%20world");
      assert.equal(set.status, 200);
      assert.equal(set.body.error_code, 0);
      const got = await waiting;
      assert.equal(got.status, 200);
      assert.match(String(got.headers["content-type"]), /^application\/json/);
      assert.ok(got.raw.startsWith('{"error_code":0,"value":"hello world"'), got.raw);
      assert.equal(got.body.version, set.body.version);
    });

    test("1,000 parked waiters on one key all get the same value", async () => {
      const waiting = Array.from({ length: 1000 }, () => s.call("POST", "/get", "key=fan"));
      await s.parked(1000);
      await s.call("POST", "/set", "key=fan&value=v1000");
      const answers = await Promise.all(waiting);
      assert.equal(answers.filter((a) => a.body.value === "v1000").length, 1000);
      assert.equal((await s.stats()).waiters, 0);
    });

    test("a present value answers at once; parameters come from query, form or JSON", async () => {
      await s.call("POST", "/set?key=present", "value=now");
      assert.equal((await s.call("POST", "/get?key=present&timeout=0")).body.value, "now");
      assert.equal((await s.call("POST", "/get", '{"key":"present"}', "application/json")).body.value, "now");
    });

    test("a value expires on the server's clock", async () => {
      await s.call("POST", "/set", "key=exp&value=soon&expired=5");
      assert.equal((await s.call("POST", "/get", "key=exp&timeout=0")).body.value, "soon");
      s.clock.advance(5000);
      const after = await s.call("POST", "/get", "key=exp&timeout=0");
      assert.deepEqual([after.status, after.body.error_code, after.body.error], [200, 2, "timeout"]);
    });

    test("a timeout answers 200 with error_code 2 and error timeout", async () => {
      const waiting = s.call("POST", "/get", "key=quiet&timeout=30");
      await s.parked(1);
      s.clock.advance(30_000);
      const got = await waiting;
      assert.deepEqual([got.status, got.body.error_code, got.body.error], [200, 2, "timeout"]);
      assert.equal(typeof got.body.message, "string");
    });

    test("the since cursor loses nothing when several sets land between polls", async () => {
      const v1 = (await s.call("POST", "/set", "key=cur&value=a")).body.version as number;
      await s.call("POST", "/set", "key=cur&value=b");
      await s.call("POST", "/set", "key=cur&value=c");
      const b = await s.call("POST", "/get", `key=cur&since=${v1}`);
      assert.equal(b.body.value, "b");
      const c = await s.call("POST", "/get", `key=cur&since=${b.body.version}`);
      assert.equal(c.body.value, "c");
      const next = s.call("POST", "/get", `key=cur&since=${c.body.version}`);
      await s.parked(1);
      await s.call("POST", "/set", "key=cur&value=d");
      assert.equal((await next).body.value, "d");
      // Without since, the original semantics: the live value at once.
      assert.equal((await s.call("POST", "/get", "key=cur")).body.value, "d");
    });

    test("/clear with and without valid_begin", async () => {
      const now = s.clock.now() / 1000;
      await s.call("POST", "/set", "key=c1&value=a&expired=10");
      await s.call("POST", "/set", "key=c2&value=b&expired=1000");
      assert.equal((await s.call("POST", "/clear", `valid_begin=${now + 100}`)).body.error_code, 0);
      assert.equal((await s.call("POST", "/get", "key=c1&timeout=0")).body.error, "timeout");
      assert.equal((await s.call("POST", "/get", "key=c2&timeout=0")).body.value, "b");
      await s.call("POST", "/clear", "");
      assert.equal((await s.call("POST", "/get", "key=c2&timeout=0")).body.error, "timeout");
    });

    test("a client that disconnects while parked is removed at once", async () => {
      const before = (await s.call("GET", "/stats")).body.counters as { disconnects: number };
      const socket = connect((new URL(s.url).port as unknown as number) * 1, "127.0.0.1");
      const body = "key=gone&timeout=60";
      socket.write(
        `POST /get HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
      await s.parked(1);
      socket.destroy();
      await s.parked(0);
      const stats = (await s.call("GET", "/stats")).body as {
        keys: number;
        counters: { disconnects: number };
      };
      assert.equal(stats.counters.disconnects, before.disconnects + 1);
      assert.equal((await s.call("POST", "/get", "key=gone&timeout=0")).body.error, "timeout");
    });

    test("/stats and /healthz", async () => {
      const stats = await s.call("GET", "/stats");
      assert.equal(stats.status, 200);
      for (const field of ["waiters", "keys", "counters", "memory"]) assert.ok(field in stats.body, field);
      assert.equal((await s.call("GET", "/healthz")).status, 200);
    });

    const invalid: [string, string, string | undefined, string, number, number, string][] = [
      ["missing key", "/get", "timeout=1", "application/x-www-form-urlencoded", 400, 2, "invalid_input"],
      ["empty value", "/set", "key=a&value=", "application/x-www-form-urlencoded", 400, 2, "invalid_input"],
      ["missing value", "/set", "key=a", "application/x-www-form-urlencoded", 400, 2, "invalid_input"],
      [
        "non-numeric timeout",
        "/get",
        "key=a&timeout=soon",
        "application/x-www-form-urlencoded",
        400,
        2,
        "invalid_input",
      ],
      [
        "negative timeout",
        "/get",
        "key=a&timeout=-1",
        "application/x-www-form-urlencoded",
        400,
        2,
        "invalid_input",
      ],
      [
        "non-numeric expired",
        "/set",
        "key=a&value=b&expired=x",
        "application/x-www-form-urlencoded",
        400,
        2,
        "invalid_input",
      ],
      [
        "non-numeric since",
        "/get",
        "key=a&since=abc",
        "application/x-www-form-urlencoded",
        400,
        2,
        "invalid_input",
      ],
      [
        "fractional since",
        "/get",
        "key=a&since=1.5",
        "application/x-www-form-urlencoded",
        400,
        2,
        "invalid_input",
      ],
      [
        "non-numeric valid_begin",
        "/clear",
        "valid_begin=x",
        "application/x-www-form-urlencoded",
        400,
        2,
        "invalid_input",
      ],
      ["malformed JSON", "/get", '{"key":', "application/json", 400, 2, "invalid_input"],
      ["JSON array body", "/get", '["key"]', "application/json", 400, 2, "invalid_input"],
      ["JSON object as key", "/get", '{"key":{"a":1}}', "application/json", 400, 2, "invalid_input"],
      ["unsupported content type", "/get", "key=a", "application/xml", 415, 2, "unsupported_media_type"],
      [
        "oversized body",
        "/set",
        `key=a&value=${"x".repeat(90_000)}`,
        "application/x-www-form-urlencoded",
        413,
        2,
        "too_large",
      ],
    ];
    for (const [what, path, body, type, status, code, name] of invalid) {
      test(`invalid input: ${what} → ${status} ${name}`, async () => {
        const got = await s.call("POST", path, body, type);
        assert.deepEqual([got.status, got.body.error_code, got.body.error], [status, code, name], got.raw);
        assert.ok(String(got.body.message).length > 10, "a human message");
      });
    }

    test("unknown route → 404 not_found; wrong method → 405 with Allow", async () => {
      const missing = await s.call("POST", "/nothing", "key=a");
      assert.deepEqual([missing.status, missing.body.error], [404, "not_found"]);
      const wrong = await s.call("GET", "/get");
      assert.deepEqual(
        [wrong.status, wrong.body.error, wrong.headers.allow],
        [405, "method_not_allowed", "POST"],
      );
      const wrongStats = await s.call("POST", "/stats", "");
      assert.deepEqual([wrongStats.status, wrongStats.headers.allow], [405, "GET"]);
    });

    test("timeouts above the clamp are cut to it", async () => {
      const waiting = s.call("POST", "/get", "key=clamp&timeout=999999");
      await s.parked(1);
      s.clock.advance(3600 * 1000);
      assert.equal((await waiting).body.error, "timeout");
    });
  });

for (const kind of BROKERS)
  describe(`limits, each with its own error (${kind} broker)`, () => {
    const limits: Partial<ServerLimits> = {
      maxKeyBytes: 8,
      maxValueBytes: 16,
      maxBodyBytes: 200,
      maxWaiters: 3,
      maxWaitersPerKey: 2,
      maxKeys: 4,
      maxHistory: 4,
      maxTimeoutS: 10,
    };
    let s: Server;
    before(async () => {
      s = await start(limits, kind);
    });
    after(async () => {
      await s.close();
    });

    test("key length, value size, body size", async () => {
      const key = await s.call("POST", "/get", "key=123456789");
      assert.deepEqual([key.status, key.body.error], [400, "key_too_long"]);
      assert.match(String(key.body.message), /--max-key-bytes/);
      const value = await s.call("POST", "/set", `key=a&value=${"v".repeat(17)}`);
      assert.deepEqual([value.status, value.body.error], [413, "value_too_large"]);
      const body = await s.call("POST", "/set", `key=a&value=v&pad=${"p".repeat(300)}`);
      assert.deepEqual([body.status, body.body.error], [413, "too_large"]);
    });

    test("waiters per key, waiters in total, keys", async () => {
      const parked = [s.call("POST", "/get", "key=a"), s.call("POST", "/get", "key=a")];
      await s.parked(2);
      const perKey = await s.call("POST", "/get", "key=a");
      assert.deepEqual([perKey.status, perKey.body.error], [503, "key_overloaded"]);
      parked.push(s.call("POST", "/get", "key=b"));
      await s.parked(3);
      const total = await s.call("POST", "/get", "key=c");
      assert.deepEqual([total.status, total.body.error], [503, "overloaded"]);
      if (kind === "memory") {
        // Redis holds values without this limit (its maxmemory bounds them); --max-keys there bounds
        // the keys with waiters parked in one process.
        await s.call("POST", "/set", "key=c&value=1");
        await s.call("POST", "/set", "key=d&value=1");
        const keys = await s.call("POST", "/set", "key=e&value=1");
        assert.deepEqual([keys.status, keys.body.error], [503, "too_many_keys"]);
      }
      await s.call("POST", "/set", "key=a&value=1");
      await s.call("POST", "/set", "key=b&value=1");
      assert.equal((await Promise.all(parked)).filter((a) => a.body.value === "1").length, 3);
    });

    test("timeout clamp: a 3600 s timeout ends at the 10 s maximum", async () => {
      await s.call("POST", "/clear", "");
      const waiting = s.call("POST", "/get", "key=t&timeout=3600");
      await s.parked(1);
      s.clock.advance(10_000);
      assert.equal((await waiting).body.error, "timeout");
    });
  });

describe("graceful shutdown", () => {
  for (const kind of BROKERS)
    test(`answers every parked waiter with shutting_down (${kind} broker)`, async (t) => {
      const s = await start({}, kind);
      t.after(() => s.close());
      const waiting = Array.from({ length: 50 }, (_, i) => s.call("POST", "/get", `key=k${i % 5}`));
      await s.parked(50);
      await s.server.shutdown();
      const answers = await Promise.all(waiting);
      assert.equal(answers.filter((a) => a.status === 503 && a.body.error === "shutting_down").length, 50);
    });
});
