// CPU time of a run's processes: the target's and each driver worker's, read at phase boundaries and
// subtracted per phase. Also the rule that says a phase was paced by the driver, not the server.

import type { Target } from "../targets/target.ts";

export interface CpuReading {
  targetUs: number | undefined;
  /** Where the target's figure came from: its own stats (µs) or /proc (10 ms ticks). */
  targetSource: "stats" | "proc" | undefined;
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
  if (stats?.cpuUs !== undefined) return { targetUs: stats.cpuUs, targetSource: "stats", driverUs };
  const proc = target.procSample()?.cpuUs;
  return { targetUs: proc, targetSource: proc === undefined ? undefined : "proc", driverUs };
}

/** Below this, a CPU time read from /proc's 10 ms ticks says too little to be a figure. */
export const PROC_MIN_CPU_MS = 20;

export interface CpuDelta {
  /** Undefined when not measurable: no source, or under PROC_MIN_CPU_MS from /proc (see targetNote). */
  targetMs: number | undefined;
  /** Why targetMs is absent, where it could have been read. */
  targetNote?: string;
  driverMs: number;
  busiestWorkerMs: number;
}

export function cpuDelta(a: CpuReading, b: CpuReading): CpuDelta {
  const driverPer = b.driverUs.map((us, i) => us - (a.driverUs[i] ?? 0));
  const targetMs =
    a.targetUs !== undefined && b.targetUs !== undefined ? (b.targetUs - a.targetUs) / 1000 : undefined;
  const coarse = a.targetSource === "proc" && targetMs !== undefined && targetMs < PROC_MIN_CPU_MS;
  // A counter that went backwards (a restarted target, a stats page that lies) measures nothing.
  const backwards = targetMs !== undefined && targetMs < 0;
  const targetNote = backwards
    ? `the target's CPU counter went backwards over the phase (${targetMs.toFixed(1)} ms)`
    : coarse
      ? `the target's CPU over the phase was under ${PROC_MIN_CPU_MS} ms, below what /proc's 10 ms ticks resolve`
      : undefined;
  return {
    targetMs: coarse || backwards ? undefined : targetMs,
    ...(targetNote ? { targetNote } : {}),
    driverMs: driverPer.reduce((s, x) => s + x, 0) / 1000,
    busiestWorkerMs: Math.max(0, ...driverPer) / 1000,
  };
}

/** The busiest driver worker's CPU time over the phase's wall time. */
export function busiestShare(cpu: CpuDelta, wallMs: number): number {
  return cpu.busiestWorkerMs / Math.max(1, wallMs);
}
