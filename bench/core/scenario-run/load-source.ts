// Where a run's driver workers come from: forked here (bound to further loopback source addresses
// beyond one address's ports, pinned and scheduled as asked), or on load agents (each brings its own
// source addresses and clock offset: agents/agent.ts).

import { pinToCpus, type SchedPolicy, setSchedPolicy } from "../../child-process.ts";
import { UsageError } from "../../errors.ts";
import type { AgentPool, AgentShare } from "../agents/pool.ts";
import type { CpuPlacement } from "../choices.ts";
import { Fleet } from "../driver/fleet.ts";
import type { WorkerPlan } from "../driver/messages.ts";
import { planSources } from "../driver/source-addresses.ts";
import type { HostLimits } from "../preflight.ts";

export interface StartedLoad {
  fleet: Fleet;
  /** On agents: each agent's part, and the waiters dealt to it. */
  agents?: { shares: AgentShare[]; waiters: Map<string, number> };
}

export interface LoadSource {
  /**
   * Start the workers for these plans. `dealt` hears, before the workers start, which agent got how
   * many waiters (so that an agent lost while starting is still reported with its share).
   */
  start(
    plans: WorkerPlan[],
    guard: <T>(p: Promise<T>) => Promise<T>,
    guardStart: <T>(starting: Promise<T>, stopIt: (started: T) => Promise<unknown>) => Promise<T>,
    dealt: (agents: NonNullable<StartedLoad["agents"]>) => void,
  ): Promise<StartedLoad>;
}

export function localLoad(o: {
  targetHost: string;
  hostLimits: HostLimits;
  cpus?: CpuPlacement | undefined;
  driverSched?: SchedPolicy | undefined;
}): LoadSource {
  return {
    async start(plans, _guard, guardStart) {
      // Beyond one source address's ports, sockets are bound to further loopback addresses.
      const sockets = plans.reduce((n, p) => n + p.waiterKeys.length, 0);
      const sources = planSources(sockets, plans[0]?.host ?? o.targetHost, o.hostLimits.ephemeralPorts);
      for (const plan of plans) {
        plan.sourceAddresses = sources.addresses;
        plan.workers = plans.length;
      }
      const fleet = await guardStart(Fleet.start(plans), (f) => f.stop());
      if (o.cpus?.driver !== undefined) {
        try {
          pinToCpus(fleet.pids, o.cpus.driver);
        } catch (error) {
          throw new UsageError(`--cpus: ${(error as Error).message}`);
        }
      }
      // Before any load: the workers are forked but have not opened a socket yet.
      if (o.driverSched === "batch") {
        try {
          setSchedPolicy(fleet.pids, "batch");
        } catch (error) {
          throw new UsageError(`--driver-sched: ${(error as Error).message}`);
        }
      }
      return { fleet };
    },
  };
}

export function agentsLoad(pool: AgentPool): LoadSource {
  return {
    async start(plans, guard, guardStart, dealt) {
      const { links, shares } = await guard(pool.links(plans.length));
      const waiters = new Map<string, number>();
      links.forEach((link, i) => {
        const name = link.agent as string;
        waiters.set(name, (waiters.get(name) ?? 0) + (plans[i]?.waiterKeys.length ?? 0));
      });
      dealt({ shares, waiters });
      const fleet = await guardStart(Fleet.on(links, plans), (f) => f.stop());
      return { fleet, agents: { shares, waiters } };
    },
  };
}
