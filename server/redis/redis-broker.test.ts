// The Redis broker across "processes": two brokers in this process, each with its own Redis
// connections (as two server processes have), on a real redis-server. The race between a read that
// finds nothing and a set elsewhere, and a process cut off from Redis (through a proxy the test
// cuts) that must catch up without losing what was stored meanwhile.

import assert from "node:assert/strict";
import { type AddressInfo, createServer, connect as netConnect, type Server, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { createClient } from "redis";
import { RedisServer, redisMissing } from "../../bench/core/targets/redis-server.ts";
import { DEFAULT_LIMITS } from "../app.ts";
import { type Broker, type Outcome, Waiter } from "../broker.ts";
import { MemoryBroker } from "../memory-broker.ts";
import { FakeClock } from "../testing/fake-clock.ts";
import { RedisBroker } from "./redis-broker.ts";

let redis: RedisServer;
let prefixes = 0;
/** Without redis-server (scripts/install-peers.sh) every test here is skipped, and says why. */
const NO_REDIS = redisMissing();
before(async () => {
  if (!NO_REDIS) redis = await RedisServer.start();
});
after(async () => {
  if (!NO_REDIS) await redis.stop();
});

const quiet = (_line: string) => {};

async function pair(urlA = redis.url) {
  const prefix = `rb${++prefixes}:`;
  const limits = { ...DEFAULT_LIMITS };
  const a = await RedisBroker.connect({ url: urlA, prefix, limits, log: quiet });
  const b = await RedisBroker.connect({ url: redis.url, prefix, limits, log: quiet });
  return { a, b, close: () => Promise.all([a.close(), b.close()]) };
}

/** Park a /get on a broker (Redis, or the memory broker); resolves with its outcome. */
function waitOn(broker: Pick<Broker, "get">, key: string, since?: number, timeoutS = 10) {
  return new Promise<Outcome>((resolve) => {
    const r = broker.get({ key, timeoutS, since }, (outcome) => resolve(outcome));
    if (!(r instanceof Waiter)) resolve(r);
  });
}

const answerOf = (o: Outcome) => (o.kind === "value" ? o.notification.value : o.kind);
const within = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([
    p,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms)),
  ]);

describe("Redis broker between two processes", { skip: NO_REDIS ?? false }, () => {
  test("a /set on one wakes the waiters parked on the other, with one version for the whole server", async (t) => {
    const { a, b, close } = await pair();
    t.after(close);
    const waiting = Array.from({ length: 20 }, () => waitOn(a, "shared"));
    const { version } = await b.set({ key: "shared", value: "from-b", expiredS: 60 });
    const outcomes = await within(Promise.all(waiting), 2_000, "wake across processes");
    assert.deepEqual(
      outcomes.map((o) => (o.kind === "value" ? [o.notification.value, o.notification.version] : o.kind)),
      Array.from({ length: 20 }, () => ["from-b", version]),
    );
    const next = await a.set({ key: "other", value: "x", expiredS: 60 });
    assert.equal(next.version, version + 1, "versions come from one counter, whichever process sets");
  });

  test("the race: a read that finds nothing while a /set lands elsewhere loses no notification (300 rounds)", async (t) => {
    const { a, b, close } = await pair();
    t.after(close);
    const rounds = 300;
    const got: Promise<Outcome>[] = [];
    for (let i = 0; i < rounds; i++) {
      // Same tick: a's read and b's set race to Redis on different connections.
      got.push(waitOn(a, `race${i}`));
      void b.set({ key: `race${i}`, value: `v${i}`, expiredS: 60 });
    }
    const outcomes = await within(Promise.all(got), 5_000, "every raced waiter answered");
    assert.deepEqual(
      outcomes.map(answerOf),
      Array.from({ length: rounds }, (_, i) => `v${i}`),
    );
  });

  test("a cursor on another process gets the oldest value it has not seen, in order", async (t) => {
    const { a, b, close } = await pair();
    t.after(close);
    const v1 = (await b.set({ key: "cur", value: "a", expiredS: 60 })).version;
    await b.set({ key: "cur", value: "b", expiredS: 60 });
    await b.set({ key: "cur", value: "c", expiredS: 60 });
    const seen: string[] = [];
    let since = v1;
    for (let i = 0; i < 2; i++) {
      const o = await waitOn(a, "cur", since);
      assert.equal(o.kind, "value");
      if (o.kind !== "value") return;
      seen.push(o.notification.value);
      since = o.notification.version;
    }
    assert.deepEqual(seen, ["b", "c"]);
  });

  test("sets of one turn go out as one batch: in order, one version each, and a cursor loses none of them", async (t) => {
    const { a, b, close } = await pair();
    t.after(close);
    const waiting = waitOn(a, "batch");
    await new Promise((r) => setTimeout(r, 50)); // parked and read
    // Same turn: three sets (two on one key, one on another with a multi-byte key and value).
    const sets = [
      b.set({ key: "batch", value: "first", expiredS: 60 }),
      b.set({ key: "batch", value: "second", expiredS: 60 }),
      b.set({ key: "ключ", value: "значение ✓", expiredS: 60 }),
    ];
    const versions = (await Promise.all(sets)).map((r) => r.version);
    assert.deepEqual(versions, [versions[0], (versions[0] as number) + 1, (versions[0] as number) + 2]);
    const first = await within(waiting, 2_000, "woken by the batch");
    assert.equal(answerOf(first), "first", "the oldest value of the batch, not the newest");
    const next = await waitOn(a, "batch", versions[0]);
    assert.equal(answerOf(next), "second");
    assert.equal(answerOf(await waitOn(a, "ключ", 0)), "значение ✓");
  });

  test("batches with a key set many times (expiring at once between, trimmed within) end as the memory broker does", async (t) => {
    // Batches of one turn, so the set script's per-key pass (one RPUSH for a key's sets) carries
    // them; the memory broker applies the same sets one by one. Both read back at every cursor, alike.
    const clock = new FakeClock();
    const limits = { ...DEFAULT_LIMITS, maxHistory: 4 };
    const prefix = `rb${++prefixes}:`;
    const b = await RedisBroker.connect({ url: redis.url, prefix, limits, clock, log: quiet });
    t.after(() => b.close());
    const memory = new MemoryBroker(limits, clock);
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const sets = Array.from({ length: 120 }, (_, i) => ({
      key: `hot${Math.floor(random() * 3)}`,
      value: `s${i}`,
      expiredS: random() < 0.1 ? 0 : 60, // 0: expires at once, so the key's next set starts a new list
    }));
    // Two batches: the second finds the first's lists and compacted versions already in Redis.
    const versions: number[] = [];
    for (const batch of [sets.slice(0, 60), sets.slice(60)]) {
      versions.push(...(await Promise.all(batch.map((s) => b.set(s)))).map((r) => r.version));
    }
    assert.deepEqual(
      versions,
      versions.map((_, i) => (versions[0] as number) + i),
      "one version each, in order",
    );
    for (const s of sets) memory.set(s);
    const base = (versions[0] as number) - 1;
    const show = (o: Outcome, offset: number) =>
      o.kind === "value"
        ? `${o.notification.value}@${o.notification.version - offset}${o.compacted ? "+c" : ""}`
        : o.kind;
    for (const key of ["hot0", "hot1", "hot2"]) {
      const cursors = [undefined, ...Array.from({ length: 122 }, (_, c) => c)];
      const fromRedis = await Promise.all(
        cursors.map((c) =>
          waitOn(b, key, c === undefined ? undefined : c + base, 0).then((o) => show(o, base)),
        ),
      );
      const expected = await Promise.all(
        cursors.map((c) => waitOn(memory, key, c, 0).then((o) => show(o, 0))),
      );
      assert.deepEqual(fromRedis, expected, `every cursor of ${key}`);
    }
  });

  test("sets that come while a call of sets is in flight go together in the next call (group commit)", async (t) => {
    const { b, close } = await pair();
    const admin = createClient({ url: redis.url });
    await admin.connect();
    t.after(async () => {
      await close();
      await admin.close();
    });
    await admin.configResetStat();
    // Redis holds write commands for 300 ms: the first turn's call stays in flight while 19 more
    // turns of 5 sets queue behind it (one call per turn would make 20). Without the pause a fast
    // Redis can answer between two turns, and the count would test the machine's speed.
    await admin.sendCommand(["CLIENT", "PAUSE", "300", "WRITE"]);
    const sets: Promise<{ version: number }>[] = [];
    for (let turn = 0; turn < 20; turn++) {
      for (let k = 0; k < 5; k++) sets.push(b.set({ key: `gc${k}`, value: `${turn}.${k}`, expiredS: 60 }));
      await new Promise((r) => setImmediate(r));
    }
    const versions = (await Promise.all(sets)).map((r) => r.version);
    const first = versions[0] as number;
    assert.deepEqual(
      versions,
      versions.map((_, i) => first + i),
      "one version each, in the order the sets were made",
    );
    const stats = await admin.info("commandstats");
    const calls = (name: string) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
    const scriptCalls = calls("evalsha") + calls("eval");
    // Two calls (a third if the script had to be loaded with EVAL first).
    assert.ok(scriptCalls >= 2 && scriptCalls <= 3, `${scriptCalls} script calls for 20 turns of sets`);
    assert.equal(answerOf(await waitOn(b, "gc4", first + 94)), "19.4", "the last set stored");
  });

  test("a process cut off from Redis catches up: its cursor misses nothing stored meanwhile", async (t) => {
    const proxy = await CuttableProxy.start(redis.port);
    const { a, b, close } = await pair(proxy.url);
    t.after(async () => {
      await close();
      proxy.close();
    });
    const v0 = (await b.set({ key: "cut", value: "before", expiredS: 60 })).version;
    const waiting = waitOn(a, "cut", v0, 30);
    const plain = waitOn(a, "cut-plain", undefined, 30);
    await new Promise((r) => setTimeout(r, 100)); // parked and read (nothing newer)
    proxy.cut();
    await new Promise((r) => setTimeout(r, 100));
    await assert.rejects(
      a.set({ key: "cut", value: "refused", expiredS: 60 }),
      /cannot reach its broker .*\(not sent: nothing was changed\)/,
      "refused while offline: never sent, so the message says nothing was stored",
    );
    // Stored by the other process while this one cannot hear: two values, then the key without a cursor.
    await b.set({ key: "cut", value: "during-1", expiredS: 60 });
    await b.set({ key: "cut", value: "during-2", expiredS: 60 });
    await b.set({ key: "cut-plain", value: "during", expiredS: 60 });
    proxy.restore();
    const [cursor, noCursor] = await within(
      Promise.all([waiting, plain]),
      5_000,
      "catch-up after reconnecting",
    );
    assert.equal(answerOf(cursor), "during-1", "the oldest value newer than the cursor, not the newest");
    assert.equal(answerOf(noCursor), "during");
    const after = await a.set({ key: "cut", value: "after", expiredS: 60 });
    assert.ok(after.version > v0 + 3, "versions kept growing");
  });
});

/** A TCP proxy to Redis that the test can cut (every connection dropped, new ones refused) and restore. */
class CuttableProxy {
  private open = true;
  private readonly sockets = new Set<Socket>();
  private constructor(private readonly server: Server) {}

  static async start(targetPort: number): Promise<CuttableProxy> {
    const server = createServer();
    const proxy = new CuttableProxy(server);
    server.on("connection", (client) => {
      if (!proxy.open) {
        client.destroy();
        return;
      }
      const upstream = netConnect(targetPort, "127.0.0.1");
      for (const s of [client, upstream]) {
        proxy.sockets.add(s);
        s.on("close", () => proxy.sockets.delete(s));
        s.on("error", () => {});
      }
      client.pipe(upstream).pipe(client);
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  cut(): void {
    this.open = false;
    for (const s of this.sockets) s.destroy();
  }

  restore(): void {
    this.open = true;
  }

  close(): void {
    this.cut();
    this.server.close();
  }
}
