// The embedded default target: the reference server (server/main.ts), spawned on a free loopback port.

import { tsxNodeArgs } from "../../child-process.ts";
import { seedProfile } from "./builtin-profiles.ts";
import { spawnTarget } from "./spawn.ts";
import type { Target } from "./target.ts";

const SERVER_MAIN = new URL("../../../server/main.ts", import.meta.url).pathname;

export interface ReferenceOptions {
  /** Another checkout's server/main.ts (a `reference@DIR` target), to compare two versions side by side. */
  main?: string;
  name?: string;
  /** Parked waiters the run needs; the server's limits are raised to fit. */
  waiters: number;
  /** Extra server flags, e.g. fault injection for the gate's own tests. */
  extraArgs?: string[];
  /** Several processes over Redis (reference-cluster): --processes N --redis URL. */
  cluster?: { processes: number; redisUrl: string; balance?: "kernel" | "round-robin" };
}

export function spawnReference(options: ReferenceOptions): Promise<Target> {
  const room = String(Math.max(100_000, options.waiters * 2));
  return spawnTarget({
    name: options.name ?? "reference",
    command: process.execPath,
    args: [
      // --expose-gc lets /stats?gc=1 collect before measuring (churn's leak check, memory-sweep).
      "--expose-gc",
      ...tsxNodeArgs(),
      options.main ?? SERVER_MAIN,
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--max-waiters",
      room,
      "--max-waiters-per-key",
      room,
      ...(options.cluster
        ? [
            "--processes",
            String(options.cluster.processes),
            "--redis",
            options.cluster.redisUrl,
            ...(options.cluster.balance ? ["--balance", options.cluster.balance] : []),
          ]
        : []),
      ...(options.extraArgs ?? []),
    ],
    profile: seedProfile,
    ready: { kind: "line", pattern: /listening on (http:\/\/\S+)/ },
    // Several processes: a process group, stopped whole, and the whole tree sampled.
    group: options.cluster !== undefined,
    startTimeoutMs: options.cluster ? 60_000 : undefined,
  });
}
