// The 100 ms sampler of a scenario run: the target's RSS, heap, CPU and parked waiters, and the
// driver's own CPU and event-loop delay, as timeseries rows. A spawned target is read from
// /proc/<pid> (exact, no request to the server); heap and parked count come from its /stats where it
// has one. The driver's figures let a result say when the driver, not the server, was the limit.

import type { Phase } from "../phases.ts";
import type { Target, TargetStats } from "../targets/target.ts";
import { readProcess } from "./proc.ts";

export interface TimeseriesRow {
  t_ms: number;
  phase: string;
  target_rss_bytes: number | "";
  target_heap_bytes: number | "";
  target_cpu_pct: number | "";
  parked_waiters: number | "";
  driver_cpu_pct: number | "";
  driver_event_loop_delay_ms: number | "";
}

export interface SamplerInputs {
  target: Target;
  driverPids: () => number[];
  driverEventLoopMaxMs: () => number;
  phase: () => Phase | undefined;
  elapsedMs: () => number;
  intervalMs?: number;
}

export class Sampler {
  readonly rows: TimeseriesRow[] = [];
  private timer: NodeJS.Timeout | undefined;
  private statsInFlight = false;
  /** The target's latest /stats answer (parked, heap; RSS and CPU too for an attached target). */
  private lastStats: TargetStats | undefined;
  private previous: { t: number; targetCpu: number | undefined; driver: Map<number, number> } | undefined;

  constructor(private readonly inputs: SamplerInputs) {}

  start(): void {
    this.tick();
    this.timer = setInterval(() => this.tick(), this.inputs.intervalMs ?? 100);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const { target } = this.inputs;
    // The /stats read is asynchronous; its answer lands in the next row. Never two in flight.
    if (!this.statsInFlight) {
      this.statsInFlight = true;
      target
        .stats()
        .then((s) => {
          this.lastStats = s;
        })
        .catch(() => undefined)
        .finally(() => {
          this.statsInFlight = false;
        });
    }
    const t = this.inputs.elapsedMs();
    const proc = target.procSample();
    const stats = this.lastStats;
    const local = target.pid !== undefined;
    const targetCpu = local ? proc?.cpuUs : stats?.cpuUs;
    const rss = local ? proc?.rssBytes : stats?.rssBytes;
    // Driver CPU over the interval, per worker present at both ends: a worker that appeared in the
    // interval brought its start-up CPU (seconds of compiling) into one 100 ms step (once 768% "of
    // 2 cores"); it counts from its first sample on.
    const driverNow = new Map<number, number>();
    for (const pid of this.inputs.driverPids()) {
      const us = readProcess(pid)?.cpuUs;
      if (us !== undefined) driverNow.set(pid, us);
    }
    let driverDelta = 0;
    for (const [pid, us] of driverNow) {
      const before = this.previous?.driver.get(pid);
      if (before !== undefined) driverDelta += us - before;
    }
    const pct = (now: number | undefined, before: number | undefined, dt: number): number | "" =>
      now === undefined || before === undefined || dt <= 0
        ? ""
        : Math.round(((now - before) / 1000 / dt) * 1000) / 10;
    const prev = this.previous;
    this.rows.push({
      t_ms: Math.round(t),
      phase: this.inputs.phase() ?? "",
      target_rss_bytes: rss ?? "",
      target_heap_bytes: stats?.heapUsedBytes ?? "",
      target_cpu_pct: prev ? pct(targetCpu, prev.targetCpu, t - prev.t) : "",
      parked_waiters: stats?.waiters ?? "",
      driver_cpu_pct: prev ? pct(driverDelta, 0, t - prev.t) : "",
      driver_event_loop_delay_ms: Math.round(this.inputs.driverEventLoopMaxMs() * 100) / 100,
    });
    this.previous = { t, targetCpu, driver: driverNow };
  }
}
