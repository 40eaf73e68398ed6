// Preflight: the host's limits against the scenario's size, before anything starts. A limit that
// makes the run impossible is an error (exit 4) naming the limit, the need and the fix; one that only
// shapes the result (somaxconn) is a warning recorded in run.json. It also says what a large
// scenario takes (driver processes, source addresses, target processes): notes on the console.

import { HostLimitError } from "../errors.ts";
import { MAX_SOCKETS_PER_WORKER } from "./driver/fleet.ts";
import { planSources } from "./driver/source-addresses.ts";
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
  /**
   * The target runs on this host (and inherits our fd limit) on this many processes that share its
   * sockets; undefined for an attached target (its limits are not ours to check).
   */
  targetProcesses: number | undefined;
  /** Where the driver connects (a spawned target: 127.0.0.1). */
  targetHost: string;
  limits: HostLimits;
  /** The driver runs on this host (false with --agents: each agent brings its own limits and addresses). */
  driverHere?: boolean;
}

export interface PreflightReport {
  warnings: string[];
  /** What the scenario takes, for the console (nothing for a small one). */
  notes: string[];
}

/** Throws HostLimitError listing every limit that is too low; returns warnings and notes. */
export function preflight({
  scenario,
  workers,
  targetProcesses,
  targetHost,
  limits,
  driverHere = true,
}: PreflightInput): PreflightReport {
  const problems: string[] = [];
  const warnings: string[] = [];
  const notes: string[] = [];
  const sockets = socketsNeeded(scenario);
  const perWorker = driverHere ? Math.ceil(sockets / workers) : 0;
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
    // A target's processes share its sockets about evenly (round-robin or SO_REUSEPORT); 10% slack.
    const perProcess = targetProcesses === undefined ? 0 : Math.ceil((sockets * 11) / (10 * targetProcesses));
    if (targetProcesses !== undefined && perProcess + FD_HEADROOM > limits.openFiles) {
      const fix =
        targetProcesses === 1
          ? "a target on several processes (reference-cluster, nchan-workers, nchan-redis), raise ulimit -n, or a smaller scenario"
          : "a target on more processes, raise ulimit -n, or a smaller scenario";
      problems.push(
        `${scenario.name}: open files limit (ulimit -n) is ${limits.openFiles}, each of the target's ${targetProcesses} process(es) needs ~${perProcess + FD_HEADROOM} for ${sockets} waiters; fix: ${fix}`,
      );
    }
  }
  if (driverHere)
    try {
      const sources = planSources(sockets + FD_HEADROOM, targetHost, limits.ephemeralPorts);
      if (sources.addresses.length > 0) {
        const processes =
          targetProcesses !== undefined && targetProcesses > 1 ? `, ${targetProcesses} target processes` : "";
        notes.push(
          `${scenario.name}: ${sockets} connections: ${workers} driver processes, source addresses ${sources.addresses[0]}-${sources.addresses.at(-1)} (${sources.addresses.length}, up to ${sources.perAddress} each)${processes}`,
        );
      }
    } catch (error) {
      problems.push(`${scenario.name}: ${(error as Error).message}`);
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
  return { warnings, notes };
}
