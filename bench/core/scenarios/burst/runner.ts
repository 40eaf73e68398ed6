// burst: waiters park, then one burst of sets; notification latency, time to the last delivery,
// delivered / missing / duplicates, and the CPU of server and driver per notification.

import { cpuDelta } from "../../metrics/cpu.ts";
import { burstExpected, burstSets } from "../../plan.ts";
import type { RunnerApi, RunnerOutput } from "../../runners/api.ts";
import { failEveryWaiter, parkFleet, scenarioFleet } from "../../runners/parking.ts";
import { nowNs, pollUntil } from "../../runners/poll.ts";
import { recordDriverShare, recordFanout, recordLatency } from "../../runners/record.ts";
import { runSets } from "../../setter.ts";
import type { BurstScenario } from "./schema.ts";

/**
 * From the readiness barrier to the first set. Long enough for the setter to open its connections
 * and for a server to finish what it does once its waiters are still (the reference server collects
 * its young garbage 50 ms after the last park). The fan-out's CPU counts from just before the fire
 * (setter.ts ARM_BEFORE_FIRE_MS), so that collection is not in it: inside, it was a large share of
 * what a 2,000-waiter fan-out's server CPU measured (docs/perf/2026-12-06-gate.md).
 */
const FIRE_LEAD_NS = 250_000_000n;

export async function runBurst(api: RunnerApi<BurstScenario>): Promise<RunnerOutput> {
  const { scenario: s, target, guard, metric, phases } = api;
  const { fleet, parked, keys } = await parkFleet(api, scenarioFleet(s, { kind: "burst" }));

  const sets = burstSets(keys, s.sets.count, s.sets.window_ms);
  const expected = burstExpected(s.waiters, s.keys, s.sets.count);
  let fireAtNs = 0n;
  let status = parked.status;
  if (sets.length > 0) {
    phases.begin("fire");
    let fireStart = phases.elapsed();
    fireAtNs = nowNs() + FIRE_LEAD_NS;
    // The fan-out's CPU counts from just before the fire: not the setter's own connections, nor
    // what the server does in the quiet after the last park (its idle collection).
    let cpuArmed = parked.cpuReady;
    const armed = async () => {
      cpuArmed = await api.readCpu();
      fireStart = phases.elapsed();
    };
    const setter = await guard(runSets({ target, sets, fireAtNs, signal: api.stopSignal, armed }));
    phases.begin("collect");
    status = await pollUntil(
      api,
      fleet,
      fireAtNs + BigInt(s.deadlines.collect_ms) * 1_000_000n,
      (st) => st.delivered + st.errors >= expected,
      (st) => `delivered ${st.delivered} / ${expected}, errors ${st.errors}`,
    );
    const cpu = cpuDelta(cpuArmed, await api.readCpu());
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
    metric("late_arrivals", counts.arrivedLate);
    if (counts.arrivedLate > 0)
      api.warn(
        `${s.name}: ${counts.arrivedLate} waiters asked after their value was sent (they connected after the readiness barrier): delivered, counted apart, not in the latency`,
      );
    recordLatency(api, "notification", histograms.latency);
    if (lastDeliveryNs !== undefined)
      metric("time_to_last_delivery_ms", Number(lastDeliveryNs - fireAtNs) / 1e6);
    // A target that delivers nothing is a failure, not a fast server (the figures above are kept).
    if (counts.delivered === 0) await failEveryWaiter(api, `no waiter got its value (${expected} expected)`);
  }
  return {};
}
