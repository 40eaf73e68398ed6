// churn: waiters park, then abort their requests and open new ones at a rate for a while, then all
// stop. A correct target comes back to 0 parked and to its starting heap (after GC, where it exposes
// one). Reports the before/after figures and flags a leak: parked waiters left, or heap growth over
// the scenario's tolerance.

import type { RunnerApi, RunnerOutput } from "../../runners/api.ts";
import { parkFleet, scenarioFleet } from "../../runners/parking.ts";
import type { ChurnScenario } from "./schema.ts";

export async function runChurn(api: RunnerApi<ChurnScenario>): Promise<RunnerOutput> {
  const { scenario: s, guard, metric, phases } = api;
  const before = await guard(api.readMemory(true));
  const { fleet } = await parkFleet(api, scenarioFleet(s, { kind: "burst" }));

  phases.begin("fire");
  api.progress.detail(`churning ${s.churn_per_s}/s for ${s.duration_s} s`);
  await guard(fleet.churn(s.churn_per_s, s.duration_s * 1000));
  const status = await guard(fleet.status());
  await api.failIfTargetGone(status);
  await api.takeReports();
  metric("churned", status.churned);
  metric("errors", status.errors);

  phases.begin("drain");
  const left = await api.drain();
  const after = await guard(api.readMemory(true));
  if (before.heapUsedBytes !== undefined && after.heapUsedBytes !== undefined) {
    metric("heap_before_bytes", before.heapUsedBytes);
    metric("heap_after_bytes", after.heapUsedBytes);
    metric("heap_growth_bytes", after.heapUsedBytes - before.heapUsedBytes);
  }
  if (before.rssBytes !== undefined && after.rssBytes !== undefined) {
    metric("rss_growth_bytes", after.rssBytes - before.rssBytes);
  }
  const heapLeak =
    before.heapUsedBytes !== undefined &&
    after.heapUsedBytes !== undefined &&
    after.heapUsedBytes - before.heapUsedBytes > s.heap_tolerance_bytes;
  const leak = (left ?? 0) > 0 || heapLeak;
  metric("leak", leak ? 1 : 0);
  if (leak) {
    api.warn(
      `${s.name}: LEAK: ${left ?? "?"} waiters still parked after every client closed; heap ${
        before.heapUsedBytes ?? "?"
      } → ${after.heapUsedBytes ?? "?"} bytes after GC (tolerance ${s.heap_tolerance_bytes})`,
    );
  }
  if (before.heapUsedBytes === undefined) {
    api.warn(`${s.name}: the target exposes no heap figure; only parked waiters were checked for a leak`);
  }
  return {};
}
