// timeout-storm: waiters ask for the same short timeout and no set comes. Every waiter must get
// exactly one timeout answer, none early; the figures are how late the answers come (the
// distribution of arrival − (request written + timeout)) and the server's CPU during the storm.

import { mergeEncoded, summarize } from "../metrics/histograms.ts";
import { keyNames, planWaiters } from "../plan.ts";
import type { TimeoutStormScenario } from "../scenario.ts";
import type { RunnerApi } from "./api.ts";
import {
  connectAndPark,
  cpuDelta,
  driverShare,
  nowNs,
  POLL_MS,
  recordConnectLatency,
  recordParked,
} from "./connect.ts";

export async function runTimeoutStorm(api: RunnerApi<TimeoutStormScenario>): Promise<void> {
  const { scenario: s, target, guard, metric, progress, phases } = api;
  const keys = keyNames(api.runTag, s.name, api.repeat, s.keys);
  const fleet = await api.startFleet(
    planWaiters({
      waiters: s.waiters,
      keys,
      arrival: s.arrival,
      waitTimeoutS: s.timeout_s,
      mode: { kind: "timeout" },
      workers: api.workers,
      host: target.url.hostname,
      port: Number(target.url.port),
      adapter: target.adapter.name,
    }),
  );
  const parked = await connectAndPark(api, fleet, {
    total: s.waiters,
    batch: s.waiters,
    arrival: s.arrival,
    readyMs: Math.min(s.deadlines.ready_ms, s.timeout_s * 1000),
    phases: true,
  });
  recordParked(api, parked, s.waiters);

  // The storm: every waiter's timeout fires; wait until each has its answer.
  phases.begin("collect");
  const stormStart = phases.elapsed();
  const deadline =
    parked.startAtNs + BigInt(Math.round(s.timeout_s * 1000) + s.deadlines.collect_ms) * 1_000_000n;
  let status = await guard(fleet.status());
  while (status.timeouts + status.errors < s.waiters && nowNs() < deadline) {
    progress.detail(`timed out ${status.timeouts} / ${s.waiters}`);
    await guard(api.sleep(POLL_MS));
    status = await guard(fleet.status());
  }
  if (status.errors > 0) await api.failIfTargetGone(status);
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
