// timeout-storm: waiters ask for the same short timeout and no set comes. Every waiter must get
// exactly one timeout answer, none early; the figures are how late the answers come (the
// distribution of arrival − (request written + timeout)) and the server's CPU during the storm.

import { mergeEncoded, summarize } from "../metrics/histograms.ts";
import type { TimeoutStormScenario } from "../scenario.ts";
import type { RunnerApi } from "./api.ts";
import { cpuDelta, driverShare, parkFleet, pollUntil, recordConnectLatency } from "./connect.ts";

export async function runTimeoutStorm(api: RunnerApi<TimeoutStormScenario>): Promise<void> {
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
  driverShare(api, "fanout", cpu, phases.elapsed() - stormStart);
  const reports = await api.takeReports();
  recordConnectLatency(
    api,
    reports.map((r) => r.connectHistogram),
  );
  const sum = (k: "timeouts" | "early" | "errors" | "delivered") => reports.reduce((n, r) => n + r[k], 0);
  const lateness = summarize(mergeEncoded(reports.map((r) => r.latenessHistogram)));
  metric("timeouts", sum("timeouts"));
  metric("missing_timeouts", Math.max(0, s.waiters - sum("timeouts")));
  metric("extra_timeouts", Math.max(0, sum("timeouts") - s.waiters));
  metric("early_timeouts", sum("early"));
  metric("errors", sum("errors"));
  metric("timeout_lateness_p50_ms", lateness.p50_ms);
  metric("timeout_lateness_p99_ms", lateness.p99_ms);
  metric("timeout_lateness_max_ms", lateness.max_ms);
  if (cpu.targetMs !== undefined) metric("server_cpu_storm_ms", cpu.targetMs);
}
