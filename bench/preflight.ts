// Preflight: the host's limits against the scenario's size, before anything starts. A limit that
// makes the run impossible is an error (exit 4) naming the limit, the need and the fix; one that only
// shapes the result (somaxconn) is a warning recorded in run.json.

import { MAX_SOCKETS_PER_WORKER } from "./driver/fleet.ts";
import { HostLimitError } from "./errors.ts";
import { ephemeralPortCount, openFileLimit, somaxconn } from "./metrics/proc.ts";
import { type Scenario, socketsNeeded } from "./scenario.ts";

/** File descriptors a process needs beyond its sockets (runtime, pipes, /proc reads). */
const FD_HEADROOM = 500;

export interface HostLimits {
  openFiles: number | undefined;
  ephemeralPorts: number | undefined;
  somaxconn: number | undefined;
}

export function readHostLimits(): HostLimits {
  return { openFiles: openFileLimit(), ephemeralPorts: ephemeralPortCount(), somaxconn: somaxconn() };
}

export interface PreflightInput {
  scenario: Scenario;
  workers: number;
  /** The target runs on this host and inherits our fd limit. */
  spawnedTarget: boolean;
  limits: HostLimits;
}

/** Throws HostLimitError listing every limit that is too low; returns warnings. */
export function preflight({ scenario, workers, spawnedTarget, limits }: PreflightInput): string[] {
  const problems: string[] = [];
  const warnings: string[] = [];
  const sockets = socketsNeeded(scenario);
  const perWorker = Math.ceil(sockets / workers);
  if (perWorker > MAX_SOCKETS_PER_WORKER) {
    problems.push(
      `${scenario.name}: ${perWorker} sockets per driver worker, over the ${MAX_SOCKETS_PER_WORKER} a worker may hold; fix: --workers ${Math.ceil(sockets / MAX_SOCKETS_PER_WORKER)} or more`,
    );
  }
  if (limits.openFiles !== undefined) {
    if (perWorker + FD_HEADROOM > limits.openFiles) {
      problems.push(
        `${scenario.name}: open files limit (ulimit -n) is ${limits.openFiles}, a driver worker needs ${perWorker + FD_HEADROOM}; fix: raise ulimit -n or use more --workers`,
      );
    }
    if (spawnedTarget && sockets + FD_HEADROOM > limits.openFiles) {
      problems.push(
        `${scenario.name}: open files limit (ulimit -n) is ${limits.openFiles}, the target needs ${sockets + FD_HEADROOM} for ${sockets} waiters; fix: raise ulimit -n (e.g. ulimit -n ${sockets + 2 * FD_HEADROOM}) or run a smaller scenario`,
      );
    }
  }
  if (limits.ephemeralPorts !== undefined && sockets + FD_HEADROOM > limits.ephemeralPorts) {
    problems.push(
      `${scenario.name}: ${limits.ephemeralPorts} ephemeral ports (net.ipv4.ip_local_port_range), ${sockets + FD_HEADROOM} needed; fix: sysctl -w net.ipv4.ip_local_port_range="1024 65535"`,
    );
  }
  if (
    limits.somaxconn !== undefined &&
    "arrival" in scenario &&
    scenario.arrival.type === "all-at-once" &&
    sockets > limits.somaxconn
  ) {
    warnings.push(
      `${scenario.name}: ${sockets} connections at once against a listen queue of at most ${limits.somaxconn} (net.core.somaxconn): expect listen overflows; to avoid them, sysctl -w net.core.somaxconn=${sockets}`,
    );
  }
  if (problems.length)
    throw new HostLimitError(`host limits too low:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  return warnings;
}
