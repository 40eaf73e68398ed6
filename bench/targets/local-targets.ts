// The targets the harness can start by name (--targets): each spawns a process and knows its pid.
// A target whose software is missing says how to install it; it is skipped, never a crash.

import { tsxNodeArgs } from "../child-process.ts";
import { nchanProfile, seedProfile } from "./builtin-profiles.ts";
import { nchanMissing, startNchan, startTornado, tornadoMissing } from "./peers.ts";
import type { Profile } from "./profile.ts";
import { spawnReference } from "./reference.ts";
import { spawnTarget } from "./spawn.ts";
import type { Target } from "./target.ts";

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
  start(options: StartOptions): Promise<Target>;
}

const CALIBRATION_MAIN = new URL("../../server/calibration.ts", import.meta.url).pathname;

export const LOCAL_TARGETS: LocalTarget[] = [
  {
    name: "reference",
    description: "the reference server (server/main.ts, fastify)",
    profile: seedProfile,
    missing: () => undefined,
    start: (o) => spawnReference({ waiters: o.waiters, extraArgs: o.referenceArgs }),
  },
  {
    name: "node-http",
    profile: seedProfile,
    description:
      "a plain node:http long-poll server (server/calibration.ts): the floor of what Node does, and the gate's yardstick",
    missing: () => undefined,
    start: () =>
      spawnTarget({
        name: "node-http",
        command: process.execPath,
        args: ["--expose-gc", ...tsxNodeArgs(), CALIBRATION_MAIN, "--port", "0", "--host", "127.0.0.1"],
        profile: seedProfile,
        ready: { kind: "line", pattern: /listening on (http:\/\/\S+)/ },
      }),
  },
  {
    name: "tornado",
    description:
      "the original design: Tornado, a Condition per key, notify_all on set (server/peers/tornado_server.py)",
    profile: seedProfile,
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
];

export function localTarget(name: string): LocalTarget | undefined {
  return LOCAL_TARGETS.find((t) => t.name === name);
}
