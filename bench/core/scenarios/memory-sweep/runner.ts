// memory-sweep: parked waiters are stepped up (e.g. 1k, 2k, 5k, 10k, 15k); at each step, after GC
// where the target exposes one, its RSS and heap. Bytes per waiter is the slope of a least-squares
// fit of memory against waiters (the fixed cost of the process falls into the intercept). The steps
// go into <scenario>.csv.

import { leastSquares } from "../../../statistics/least-squares.ts";
import { perWaiter } from "../../metrics/memory-fit.ts";
import { keyNames, planWaiters, workerRanges } from "../../plan.ts";
import type { RunnerApi, RunnerOutput } from "../../runners/api.ts";
import { connectAndPark } from "../../runners/parking.ts";
import type { MemorySweepScenario } from "./schema.ts";

/** A quiet moment for freed request buffers to be released before memory is read. */
const QUIET_BEFORE_READ_MS = 500;

export async function runMemorySweep(api: RunnerApi<MemorySweepScenario>): Promise<RunnerOutput> {
  const { scenario: s, target, guard, metric, phases } = api;
  const keys = keyNames(api.runTag, s.name, api.repeat, s.keys);
  const max = Math.max(...s.steps);
  const batches = s.steps.map((n, i) => n - (i === 0 ? 0 : (s.steps[i - 1] as number)));
  const arrival = { type: "uniform" as const, window_ms: s.step_window_ms };
  const fleet = await api.startFleet(
    planWaiters({
      waiters: max,
      keys,
      arrival,
      batches,
      waitTimeoutS: s.wait_timeout_s,
      mode: { kind: "burst" },
      workers: api.workers,
      host: target.url.hostname,
      port: Number(target.url.port),
      profile: target.profile,
    }),
  );
  const base = await guard(api.readMemory(true));
  const rows: Record<string, number>[] = [
    { waiters: 0, rss_bytes: base.rssBytes ?? Number.NaN, heap_bytes: base.heapUsedBytes ?? Number.NaN },
  ];
  phases.begin("connect");
  let from = 0;
  for (const [i, step] of s.steps.entries()) {
    api.progress.detail(`step ${i + 1} of ${s.steps.length}: ${step} waiters`);
    await connectAndPark(api, fleet, {
      total: step,
      batch: step - from,
      arrival,
      readyMs: s.deadlines.ready_ms,
      ranges: workerRanges(from, step, api.workers),
      phases: false,
    });
    await guard(api.sleep(QUIET_BEFORE_READ_MS));
    const m = await guard(api.readMemory(true));
    rows.push({
      waiters: step,
      rss_bytes: m.rssBytes ?? Number.NaN,
      heap_bytes: m.heapUsedBytes ?? Number.NaN,
    });
    from = step;
  }
  const fit = (pick: (r: Record<string, number>) => number) => {
    const points = rows
      .filter((r) => Number.isFinite(pick(r)))
      .map((r) => [r.waiters as number, pick(r)] as const);
    return points.length >= 2 ? leastSquares(points) : undefined;
  };
  const rss = fit((r) => r.rss_bytes as number);
  const heap = fit((r) => r.heap_bytes as number);
  metric("waiters", max);
  for (const [what, fitted, slopeName, r2Name] of [
    ["RSS", rss, "memory_slope_rss_bytes_per_waiter", "memory_fit_r2_rss"],
    ["heap", heap, "memory_slope_heap_bytes_per_waiter", "memory_fit_r2_heap"],
  ] as const) {
    // No fit: the target gives no such reading (a heap needs its /stats); nothing to say.
    if (!fitted) continue;
    const p = perWaiter(what, fitted);
    if ("absent" in p) {
      api.warn(`${s.name}: ${p.absent}`);
      continue;
    }
    metric(slopeName, p.slope);
    metric(r2Name, p.r2);
  }
  const status = await guard(fleet.status());
  metric("errors", status.errors);
  await api.takeReports();
  return { table: rows };
}
