// burst: waiters park, then one burst of sets; notification latency, time to the last delivery,
// delivered / missing / duplicates, and the CPU of server and driver per notification.

import { cpuDelta } from "../metrics/cpu.ts";
import { burstExpected, burstSets } from "../plan.ts";
import type { BurstScenario } from "../scenario.ts";
import { runSets } from "../setter.ts";
import type { RunnerApi, RunnerOutput } from "./api.ts";
import { failEveryWaiter, parkFleet, scenarioFleet } from "./parking.ts";
import { nowNs, pollUntil } from "./poll.ts";
import { recordDriverShare, recordFanout, recordLatency } from "./record.ts";

export async function runBurst(api: RunnerApi<BurstScenario>): Promise<RunnerOutput> {
  const { scenario: s, target, guard, metric, phases } = api;
  const { fleet, parked, keys } = await parkFleet(api, scenarioFleet(s, { kind: "burst" }));

  const sets = burstSets(keys, s.sets.count, s.sets.window_ms);
  const expected = burstExpected(s.waiters, s.keys, s.sets.count);
  let fireAtNs = 0n;
  let status = parked.status;
  if (sets.length > 0) {
    phases.begin("fire");
    const fireStart = phases.elapsed();
    fireAtNs = nowNs() + 50_000_000n;
    const setter = await guard(runSets({ target, sets, fireAtNs, signal: api.stopSignal }));
    phases.begin("collect");
    status = await pollUntil(
      api,
      fleet,
      fireAtNs + BigInt(s.deadlines.collect_ms) * 1_000_000n,
      (st) => st.delivered + st.errors >= expected,
      (st) => `delivered ${st.delivered} / ${expected}, errors ${st.errors}`,
    );
    const cpu = cpuDelta(parked.cpuReady, await api.readCpu());
    recordDriverShare(api, "fanout", cpu, phases.elapsed() - fireStart);
    recordFanout(api, setter, cpu, status.delivered);
  }
  await api.failIfTargetGone(status);

  const { counts, histograms, lastDeliveryNs } = await api.takeReports();
  metric("errors", counts.errors);
  metric("timeouts", counts.timeouts);
  if (sets.length > 0) {
    metric("expected", expected);
    metric("delivered", counts.delivered);
    metric("missing", Math.max(0, expected - counts.delivered));
    metric("duplicates", counts.duplicates);
    recordLatency(api, "notification", histograms.latency);
    if (lastDeliveryNs !== undefined)
      metric("time_to_last_delivery_ms", Number(lastDeliveryNs - fireAtNs) / 1e6);
    // A target that delivers nothing is a failure, not a fast server (the figures above are kept).
    if (counts.delivered === 0) await failEveryWaiter(api, `no waiter got its value (${expected} expected)`);
  }
  return {};
}
