// Parking waiters, shared by every scenario that holds them: the connect phase opens them on the
// arrival schedule from one shared instant; the ready phase waits until the target holds all of them
// (its stats say so) or, for a target that cannot count, until every request is written plus a
// fixed wait (approximate, and run.json says so). Then the connect-side metrics.

import { TargetError } from "../../errors.ts";
import { arrivalSpanMs } from "../driver/arrival-schedule.ts";
import type { Fleet } from "../driver/fleet.ts";
import type { WaiterMode, WorkerStatus } from "../driver/messages.ts";
import type { MetricName } from "../metrics/catalog.ts";
import { type CpuReading, cpuDelta } from "../metrics/cpu.ts";
import { listenCounters } from "../metrics/proc.ts";
import { keyNames, planWaiters } from "../plan.ts";
import type { Arrival } from "../scenario.ts";
import type { Target, TargetStats } from "../targets/target.ts";
import type { RunnerApi } from "./api.ts";
import { nowNs, POLL_MS } from "./poll.ts";
import { recordDriverShare } from "./record.ts";

/** A target that cannot count its waiters: after every request is written, wait this long. */
const APPROXIMATE_BARRIER_WAIT_MS = 1_000;

export interface ParkOptions {
  /** Waiters parked when this batch is done (all batches so far). */
  total: number;
  arrival: Arrival;
  /** This batch's waiter count (the arrival span is computed from it). */
  batch: number;
  readyMs: number;
  /** Per worker [from, to) of this batch; all waiters by default. */
  ranges?: [number, number][];
  /** Begin the connect and ready phases (false for the later steps of a stepped scenario). */
  phases: boolean;
}

export interface Parked {
  startAtNs: bigint;
  /** Parked count from the target's /stats, or undefined when it has none. */
  parked: number | undefined;
  /** Time from the start to every waiter parked (or written); undefined when the deadline came first. */
  allParkedMs: number | undefined;
  parkedAtWindowEnd: number | undefined;
  status: WorkerStatus;
  before: TargetStats;
  atReady: TargetStats;
  cpuBefore: CpuReading;
  cpuReady: CpuReading;
  wallMs: number;
  listen: { overflows: number; drops: number } | undefined;
}

/** What to do when the target does not speak the profile it was given. */
export function probeHint(target: Target): string {
  return `it was spoken to with the "${target.profile.name}" profile: if the server speaks another protocol, describe it in a profile and check it with npm run probe -- --target ${target.url.origin} --profile FILE (docs/own-server.md)`;
}

/** End the run as a target failure (exit 3) naming the error reasons and the probe. */
export async function failEveryWaiter(api: RunnerApi, what: string): Promise<never> {
  const { errorReasons } = await api.takeReports();
  const reasons = Object.entries(errorReasons)
    .map(([r, n]) => `${r} ×${n}`)
    .join(", ");
  throw new TargetError(
    `${what} against ${api.target.name}${reasons ? `: ${reasons}` : ""}; ${probeHint(api.target)}`,
  );
}

export async function connectAndPark(api: RunnerApi, fleet: Fleet, o: ParkOptions): Promise<Parked> {
  const { guard, target, progress, phases } = api;
  const before = await guard(api.readMemory());
  const listenBefore = listenCounters();
  const cpuBefore = await api.readCpu();
  const wallStart = phases.elapsed();

  if (o.phases) phases.begin("connect");
  const startAtNs = nowNs() + 100_000_000n;
  fleet.begin(startAtNs, o.ranges);
  const windowMs = arrivalSpanMs(o.arrival, o.batch);
  const atWindowEnd = (async () => {
    await api.sleep(Number(startAtNs - nowNs()) / 1e6 + windowMs);
    return (await target.stats().catch(() => undefined))?.waiters;
  })();
  let status = await guard(fleet.status());
  while (!fleet.arrivalsDone) {
    await guard(api.sleep(POLL_MS));
    status = await guard(fleet.status());
    progress.detail(`opened ${status.opened} / ${o.total}`);
  }

  if (o.phases) phases.begin("ready");
  const deadline = nowNs() + BigInt(o.readyMs) * 1_000_000n;
  let parked: number | undefined;
  // Every arrival is out by now: a count above the waiters this run opened cannot be true (a stats
  // page that lies, or counts other clients too): it is flagged and the barrier falls back to the
  // approximate one.
  const possible = o.total;
  let trusted = true;
  let reachedAll = true;
  for (;;) {
    status = await guard(fleet.status());
    parked = trusted ? (await guard(target.stats().catch(() => undefined)))?.waiters : undefined;
    if (parked !== undefined && parked > possible) {
      api.warn(
        `${api.scenario.name}: ${target.name}'s stats say ${parked} parked, more than the ${possible} waiters this run opened: its parked count is not used; the readiness barrier is approximate`,
      );
      trusted = false;
      parked = undefined;
    }
    progress.detail(`parked ${parked ?? "?"} / ${o.total}, written ${status.written}`);
    await api.failIfTargetGone(status);
    if (status.errors >= o.total) await failEveryWaiter(api, "every waiter failed");
    if (parked !== undefined ? parked >= o.total : status.written + status.errors >= o.total) break;
    if (nowNs() > deadline) {
      // Measured on (everything is kept), but the run fails: its waiters were not all there when
      // the sets came, so what it measured is not the scenario it names.
      api.targetFault(
        `${api.scenario.name}: readiness deadline (${o.readyMs} ms) passed with ${parked ?? status.written} of ${o.total} waiters ${parked !== undefined ? "parked by its stats" : "written"}; the run went on, and fails`,
      );
      reachedAll = false;
      break;
    }
    await guard(api.sleep(POLL_MS));
  }
  const allParkedMs = reachedAll ? Number(nowNs() - startAtNs) / 1e6 : undefined;
  if (parked === undefined) {
    api.flagBarrierApproximate();
    await guard(api.sleep(APPROXIMATE_BARRIER_WAIT_MS));
    // Without a count, answers that are errors (another protocol's 404s) show up only now.
    status = await guard(fleet.status());
    if (status.errors >= o.total) await failEveryWaiter(api, "every waiter failed");
  }
  const listenAfter = listenCounters();
  const atReady = await guard(api.readMemory());
  await guard(fleet.collectGarbage()); // the driver's connect-phase garbage is collected in the connect phase
  return {
    startAtNs,
    parked,
    allParkedMs,
    parkedAtWindowEnd: o.arrival.type === "all-at-once" ? undefined : await guard(atWindowEnd),
    status,
    before,
    atReady,
    cpuBefore,
    cpuReady: await api.readCpu(),
    wallMs: phases.elapsed() - wallStart,
    listen:
      listenBefore && listenAfter
        ? {
            overflows: listenAfter.overflows - listenBefore.overflows,
            drops: listenAfter.drops - listenBefore.drops,
          }
        : undefined,
  };
}

/** The connect-side metrics every parking scenario reports. */
export function recordParked(api: RunnerApi, p: Parked, waiters: number): void {
  const m = api.metric;
  m("waiters", waiters);
  if (p.parkedAtWindowEnd !== undefined) m("parked_within_window", p.parkedAtWindowEnd);
  if (p.parked !== undefined) m("parked_at_ready", p.parked);
  if (p.allParkedMs !== undefined)
    m(p.parked === undefined ? "all_written_ms" : "all_parked_ms", p.allParkedMs);
  if (p.listen) {
    m("listen_overflows", p.listen.overflows);
    m("listen_drops", p.listen.drops);
  }
  // Memory that did not grow while N waiters parked (a GC in between, or an attached target's other
  // clients leaving) is no figure of a waiter's cost: absent with the reason, never 0 or negative.
  const perWaiter = (
    name: MetricName,
    what: string,
    before: number | undefined,
    after: number | undefined,
  ) => {
    if (before === undefined || after === undefined) return;
    if (after > before) m(name, (after - before) / waiters);
    else
      api.warn(
        `${api.scenario.name}: ${what} per waiter not measured: it went from ${before} to ${after} bytes while ${waiters} waiters parked (a GC, or other load on the target); the memory-sweep scenario measures it with a fit`,
      );
  };
  // After a warm-up the target's RSS still holds what its warm-up waiters used (V8 and the allocator
  // keep freed pages), and the run's waiters reuse it: the RSS delta would understate a waiter's
  // cost. Live heap (collected at the warm-up's end) stays a figure.
  if (api.warmedUpBy > 0 && p.before.rssBytes !== undefined)
    api.warn(
      `${api.scenario.name}: RSS per waiter not measured after --warmup ${api.warmedUpBy}: the target's RSS holds the memory its warm-up waiters used, which these waiters reuse; heap per waiter is measured, and the memory-sweep scenario fits both`,
    );
  else perWaiter("target_rss_per_waiter_bytes", "RSS", p.before.rssBytes, p.atReady.rssBytes);
  perWaiter("target_heap_per_waiter_bytes", "heap", p.before.heapUsedBytes, p.atReady.heapUsedBytes);
  const cpu = cpuDelta(p.cpuBefore, p.cpuReady);
  if (cpu.targetMs !== undefined) m("server_cpu_connect_ms", cpu.targetMs);
  else if (cpu.targetNote)
    api.warn(`${api.scenario.name}: server CPU to connect not measured: ${cpu.targetNote}`);
  m("driver_cpu_connect_ms", cpu.driverMs);
  recordDriverShare(api, "connect", cpu, p.wallMs);
}

export interface FleetOptions {
  waiters: number;
  keys: number;
  arrival: Arrival;
  waitTimeoutS: number;
  mode: WaiterMode;
  readyMs: number;
}

/** The fields of a scenario that say how its waiters arrive and park. */
interface ParkingFields {
  waiters: number;
  keys: number;
  arrival: Arrival;
  wait_timeout_s: number;
  deadlines: { ready_ms: number };
}

/** A scenario's fleet as its own fields describe it (burst, stream, churn; the timeout storm sets its own). */
export function scenarioFleet(s: ParkingFields, mode: WaiterMode): FleetOptions {
  return {
    waiters: s.waiters,
    keys: s.keys,
    arrival: s.arrival,
    waitTimeoutS: s.wait_timeout_s,
    mode,
    readyMs: s.deadlines.ready_ms,
  };
}

/**
 * The opening every parking scenario shares: plan the waiters (dealt over the run's keys), fork the
 * fleet, connect and park them all, and record the connect-side metrics.
 */
export async function parkFleet(
  api: RunnerApi,
  o: FleetOptions,
): Promise<{ fleet: Fleet; parked: Parked; keys: string[] }> {
  const { target } = api;
  const keys = keyNames(api.runTag, api.scenario.name, api.repeat, o.keys);
  const fleet = await api.startFleet(
    planWaiters({
      waiters: o.waiters,
      keys,
      arrival: o.arrival,
      waitTimeoutS: o.waitTimeoutS,
      mode: o.mode,
      workers: api.workers,
      host: target.url.hostname,
      port: Number(target.url.port),
      profile: target.profile,
    }),
  );
  const parked = await connectAndPark(api, fleet, {
    total: o.waiters,
    batch: o.waiters,
    arrival: o.arrival,
    readyMs: o.readyMs,
    phases: true,
  });
  recordParked(api, parked, o.waiters);
  return { fleet, parked, keys };
}
