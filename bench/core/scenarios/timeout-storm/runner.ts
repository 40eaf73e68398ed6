// timeout-storm: waiters ask for the same short timeout and no set comes. Every waiter must get
// exactly one timeout answer, none early; the figures are how late the answers come (the
// distribution of arrival − (request written + timeout)) and the server's CPU during the storm.

import { cpuDelta } from "../../metrics/cpu.ts";
import type { RunnerApi, RunnerOutput } from "../../runners/api.ts";
import { parkFleet } from "../../runners/parking.ts";
import { pollUntil } from "../../runners/poll.ts";
import { recordDriverShare, recordLatency } from "../../runners/record.ts";
import type { TimeoutStormScenario } from "./schema.ts";

export async function runTimeoutStorm(api: RunnerApi<TimeoutStormScenario>): Promise<RunnerOutput> {
  const { scenario: s, metric, phases } = api;
  const { fleet, parked } = await parkFleet(api, {
    waiters: s.waiters,
    keys: s.keys,
    arrival: s.arrival,
    waitTimeoutS: s.timeout_s,
    mode: { kind: "timeout" },
    // The barrier must end before the first timeout fires.
    readyMs: Math.min(s.deadlines.ready_ms, s.timeout_s * 1000),
  });

  // The storm: every waiter's timeout fires; wait until each has its answer.
  phases.begin("collect");
  const stormStart = phases.elapsed();
  const status = await pollUntil(
    api,
    fleet,
    parked.startAtNs + BigInt(Math.round(s.timeout_s * 1000) + s.deadlines.collect_ms) * 1_000_000n,
    (st) => st.timeouts + st.errors >= s.waiters,
    (st) => `timed out ${st.timeouts} / ${s.waiters}`,
  );
  await api.failIfTargetGone(status);
  const cpu = cpuDelta(parked.cpuReady, await api.readCpu());
  recordDriverShare(api, "fanout", cpu, phases.elapsed() - stormStart);
  const { counts, histograms } = await api.takeReports();
  metric("timeouts", counts.timeouts);
  metric("missing_timeouts", Math.max(0, s.waiters - counts.timeouts));
  metric("extra_timeouts", Math.max(0, counts.timeouts - s.waiters));
  metric("early_timeouts", counts.early);
  metric("errors", counts.errors);
  recordLatency(api, "lateness", histograms.lateness);
  if (cpu.targetMs !== undefined) metric("server_cpu_storm_ms", cpu.targetMs);
  return {};
}
