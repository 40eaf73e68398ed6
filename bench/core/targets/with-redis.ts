// A target that needs Redis (reference-cluster, nchan-redis): the harness starts a private
// redis-server first, hands its URL to the target's command, and from then on the two are one
// target: its RSS and CPU are the sum of the target's process tree and Redis's, it has died when
// either dies, and stopping it stops both.

import { readProcessTree } from "../metrics/proc.ts";
import { RedisServer } from "./redis-server.ts";
import type { Target } from "./target.ts";

export async function startWithRedis(start: (redisUrl: string) => Promise<Target>): Promise<Target> {
  const redis = await RedisServer.start();
  let target: Target;
  try {
    target = await start(redis.url);
  } catch (error) {
    await redis.stop();
    throw error;
  }
  let redisGone: string | undefined;
  void redis.died.then((why) => {
    redisGone = why;
  });
  return {
    ...target,
    procSample() {
      const own = target.pid === undefined ? undefined : readProcessTree(target.pid);
      const r = redis.sample();
      if (own === undefined || r === undefined) return undefined;
      return { cpuUs: own.cpuUs + r.cpuUs, rssBytes: own.rssBytes + r.rssBytes };
    },
    died: Promise.race([target.died, redis.died]),
    async checkGone() {
      return (await target.checkGone()) ?? redisGone;
    },
    async stop() {
      try {
        await target.stop();
      } finally {
        await redis.stop();
      }
    },
  };
}
