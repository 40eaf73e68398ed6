// The reference app on either broker, for the push transports' tests (sse.test.ts,
// websocket.test.ts): listening on loopback, shut down when the test ends, with a /set helper.
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
