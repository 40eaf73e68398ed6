// What a command chose for a session, as the core takes it: where target and driver run (--cpus),
// which targets (--target, --targets). The commands parse flags into these (cli/args.ts).

import type { Transport } from "./targets/transports.ts";

export interface CpuPlacement {
  target?: string;
  driver?: string;
}

export interface TargetSelection {
  target: string | undefined;
  /** The profile of --target (a built-in name or a file; default seed). */
  profile: string | undefined;
  /** Named targets the harness starts itself, or target files (--targets). */
  targets: string[];
  referenceArgs: string[];
  /** Non-loopback targets allowed (--allow-remote). */
  allowRemote: boolean;
  /** An attached target's process is not sampled from /proc (--no-proc). */
  noProc?: boolean;
  /** Run every target over each of these transports (--transports); absent: the scenarios' own. */
  transports?: readonly Transport[] | undefined;
}

export function isLoopback(hostname: string): boolean {
  return (
    hostname === "localhost" ||
    hostname === "[::1]" ||
    hostname === "::1" ||
    /^127\.\d+\.\d+\.\d+$/.test(hostname)
  );
}
