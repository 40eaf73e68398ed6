// The reference app on either broker, for the push transports' tests (sse.test.ts,
// websocket.test.ts): listening on loopback, shut down when the test ends, with a /set helper, and
// the slow-reader tests' flood of values.
// Redis: one redis-server for the test file (started on first use, stopped by `stopRedis`).

import type { TestContext } from "node:test";
import { request } from "undici";
import { RedisServer } from "../../bench/core/targets/redis-server.ts";
import { createApp, DEFAULT_LIMITS, type LongPollApp } from "../app.ts";
import { RedisBroker } from "../redis/redis-broker.ts";

let redis: Promise<RedisServer> | undefined;

export async function stopRedis(): Promise<void> {
  if (redis) await (await redis).stop();
  redis = undefined;
}

export async function pushServer(
  t: TestContext,
  kind: "memory" | "redis",
  prefix: string,
): Promise<{ server: LongPollApp; url: string; set(key: string, value: string): Promise<unknown> }> {
  const limits = { ...DEFAULT_LIMITS, maxHistory: 16 };
  let broker: RedisBroker | undefined;
  if (kind === "redis") {
    redis ??= RedisServer.start();
    broker = await RedisBroker.connect({ url: (await redis).url, prefix, limits, log: () => {} });
  }
  const server = createApp({ limits, ...(broker ? { broker } : {}) });
  const url = await server.listen({ host: "127.0.0.1", port: 0 });
  t.after(() => server.shutdown());
  const set = (key: string, value: string) =>
    request(`${url}/set`, {
      method: "POST",
      body: `key=${encodeURIComponent(key)}&value=${encodeURIComponent(value)}`,
      headers: { "content-type": "application/x-www-form-urlencoded" },
    }).then((r) => r.body.json());
  return { server, url, set };
}

/**
 * A client that never reads: set 64 KiB values on `key` until the server has cut its subscriber
 * (nothing parked) or 400 values have gone; returns how many went. The caller asserts the cut.
 */
export async function setUntilCut(server: LongPollApp, url: string, key: string): Promise<number> {
  const value = "x".repeat(64 * 1024 - 100);
  let sets = 0;
  for (; sets < 400 && server.broker.parkedCount() > 0; sets++) {
    await request(`${url}/set`, {
      method: "POST",
      body: `key=${key}&value=${value}`,
      headers: { "content-type": "application/x-www-form-urlencoded" },
    }).then((r) => r.body.text());
  }
  return sets;
}
