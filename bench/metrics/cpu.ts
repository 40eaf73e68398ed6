// CPU time of a run's processes: the target's and each driver worker's, read at phase boundaries and
// subtracted per phase. Also the rule that says a phase was paced by the driver, not the server.

import type { Target } from "../targets/target.ts";

export interface CpuReading {
  targetUs: number | undefined;
  /** Per driver worker, µs. */
  driverUs: number[];
}

/** A driver worker busy for more than this share of a phase's wall time bounded the result. */
export const DRIVER_BOUND_SHARE = 0.5;

/**
 * CPU time so far of the target and of each driver worker (for per-phase CPU). The target's own
 * count (its /stats, µs) is preferred to /proc, whose 10 ms ticks are too coarse for a 50 ms phase;
 * the workers report theirs with their status.
 */
export async function readCpu(target: Target, driverCpuUs: () => Promise<number[]>): Promise<CpuReading> {
  const [stats, driverUs] = await Promise.all([target.stats().catch(() => undefined), driverCpuUs()]);
  let targetUs = stats?.cpuUs;
  if (targetUs === undefined) targetUs = target.procSample()?.cpuUs;
  return { targetUs, driverUs };
}

export interface CpuDelta {
  targetMs: number | undefined;
  driverMs: number;
  busiestWorkerMs: number;
}

export function cpuDelta(a: CpuReading, b: CpuReading): CpuDelta {
  const driverPer = b.driverUs.map((us, i) => us - (a.driverUs[i] ?? 0));
  return {
    targetMs:
      a.targetUs !== undefined && b.targetUs !== undefined ? (b.targetUs - a.targetUs) / 1000 : undefined,
    driverMs: driverPer.reduce((s, x) => s + x, 0) / 1000,
    busiestWorkerMs: Math.max(0, ...driverPer) / 1000,
  };
}

/** The busiest driver worker's CPU time over the phase's wall time. */
export function busiestShare(cpu: CpuDelta, wallMs: number): number {
  return cpu.busiestWorkerMs / Math.max(1, wallMs);
}
