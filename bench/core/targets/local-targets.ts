// The targets the harness can start by name (--targets): each spawns a process and knows its pid.
// A target whose software is missing says how to install it; it is skipped, never a crash.

import { tsxNodeArgs } from "../../child-process.ts";
import { nchanProfile, seedLongPollProfile, seedProfile } from "./builtin-profiles.ts";
import { nchanMissing, startNchan, startTornado, tornadoMissing } from "./peers.ts";
import type { Profile } from "./profile.ts";
import { redisMissing } from "./redis-server.ts";
import { spawnReference } from "./reference.ts";
import { spawnTarget } from "./spawn.ts";
import type { Target } from "./target.ts";
import { startWithRedis } from "./with-redis.ts";

export interface StartOptions {
  /** Parked waiters the scenario needs. */
  waiters: number;
  /** Extra flags for the reference server (fault injection for the gate's own tests). */
  referenceArgs: string[];
}

export interface LocalTarget {
  name: string;
  description: string;
  /** Its protocol (a built-in profile). */
  profile: Profile;
  /** Undefined when it can run here; otherwise why not and how to install it. */
  missing(): string | undefined;
  /** The processes that share its sockets for a scenario of this many (default 1). */
  processes?(sockets: number): number;
  start(options: StartOptions): Promise<Target>;
}

const NODE_HTTP_MAIN = new URL("../../../server/peers/node-http.ts", import.meta.url).pathname;

/**
 * Sockets one process of a multi-process target is given: well under the ~19,000 descriptors a
 * process may hold here, with room for an uneven share. At least 2 processes, so a small scenario
 * still crosses processes (the point of these targets).
 */
const SOCKETS_PER_PROCESS = 12_500;
export const processesFor = (sockets: number): number =>
  Math.max(2, Math.ceil(sockets / SOCKETS_PER_PROCESS));

/**
 * Who deals a reference-cluster's connections (its --balance): with few connections the primary, in
 * turn; with many the kernel. Why: the kernel's dealing is lumpy when a few connections arrive at
 * once (one process may get most of 50 connections, and the rate then depends on luck), while the
 * primary's passing costs CPU per connection that 100,000 waiters would multiply
 * (docs/perf/2026-11-28-design-figures.md, "Dealing a few connections").
 */
const ROUND_ROBIN_UP_TO_SOCKETS = 1_000;
export const balanceFor = (sockets: number): "kernel" | "round-robin" =>
  sockets <= ROUND_ROBIN_UP_TO_SOCKETS ? "round-robin" : "kernel";

const bothMissing =
  (...checks: (() => string | undefined)[]) =>
  () => {
    for (const check of checks) {
      const why = check();
      if (why !== undefined) return why;
    }
    return undefined;
  };

export const LOCAL_TARGETS: LocalTarget[] = [
  {
    name: "reference",
    description: "the reference server (server/main.ts, fastify)",
    profile: seedProfile,
    missing: () => undefined,
    start: (o) => spawnReference({ waiters: o.waiters, extraArgs: o.referenceArgs }),
  },
  {
    name: "reference-cluster",
    description:
      "the reference server on several processes (node:cluster, one per 12,500 waiters, at least 2; connections dealt in turn up to 1,000, by the kernel above) over a redis-server the harness starts; RSS and CPU include Redis",
    profile: seedProfile,
    missing: redisMissing,
    processes: processesFor,
    start: (o) =>
      startWithRedis((redisUrl) =>
        spawnReference({
          name: "reference-cluster",
          waiters: o.waiters,
          extraArgs: o.referenceArgs,
          cluster: { processes: processesFor(o.waiters), redisUrl, balance: balanceFor(o.waiters) },
        }),
      ),
  },
  {
    name: "node-http",
    profile: seedLongPollProfile,
    description:
      "a plain node:http long-poll server (server/peers/node-http.ts): the floor of what Node does",
    missing: () => undefined,
    start: () =>
      spawnTarget({
        name: "node-http",
        command: process.execPath,
        args: ["--expose-gc", ...tsxNodeArgs(), NODE_HTTP_MAIN, "--port", "0", "--host", "127.0.0.1"],
        profile: seedLongPollProfile,
        ready: { kind: "line", pattern: /listening on (http:\/\/\S+)/ },
      }),
  },
  {
    name: "tornado",
    description:
      "the original design: Tornado, a Condition per key, notify_all on set (server/peers/tornado_server.py)",
    profile: seedLongPollProfile,
    missing: tornadoMissing,
    start: () => startTornado(),
  },
  {
    name: "nchan",
    description:
      "nginx + nchan, long-poll subscribers (config written per run; listen backlog 16384, as the reference server)",
    profile: nchanProfile,
    missing: nchanMissing,
    start: () => startNchan({ backlog: 16384 }),
  },
  {
    name: "nchan-workers",
    description:
      "nginx + nchan on several worker processes (one per 12,500 waiters, at least 2; SO_REUSEPORT), messages through nginx's shared memory",
    profile: nchanProfile,
    missing: nchanMissing,
    processes: processesFor,
    start: (o) => startNchan({ name: "nchan-workers", backlog: 16384, workers: processesFor(o.waiters) }),
  },
  {
    name: "nchan-redis",
    description:
      "nginx + nchan on several worker processes with messages through a redis-server the harness starts (nchan_redis_url); RSS and CPU include Redis",
    profile: nchanProfile,
    missing: bothMissing(nchanMissing, redisMissing),
    processes: processesFor,
    start: (o) =>
      startWithRedis((redisUrl) =>
        startNchan({ name: "nchan-redis", backlog: 16384, workers: processesFor(o.waiters), redisUrl }),
      ),
  },
];

export function localTarget(name: string): LocalTarget | undefined {
  return LOCAL_TARGETS.find((t) => t.name === name);
}
