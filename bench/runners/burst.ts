// burst: waiters park, then one burst of sets; notification latency, time to the last delivery,
// delivered / missing / duplicates, and the CPU of server and driver per notification.

import { burstExpected, burstSets } from "../plan.ts";
import type { BurstScenario } from "../scenario.ts";
import { runSets } from "../setter.ts";
import type { RunnerApi } from "./api.ts";
import {
  cpuDelta,
  driverShare,
  nowNs,
  parkFleet,
  pollUntil,
  recordConnectLatency,
  recordNotificationLatency,
  scenarioFleet,
} from "./connect.ts";

export async function runBurst(api: RunnerApi<BurstScenario>): Promise<void> {
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
    const setter = await guard(runSets({ url: target.url, adapter: target.adapter, sets, fireAtNs }));
    phases.begin("collect");
    status = await pollUntil(
      api,
      fleet,
      fireAtNs + BigInt(s.deadlines.collect_ms) * 1_000_000n,
      (st) => st.delivered + st.errors >= expected,
      (st) => `delivered ${st.delivered} / ${expected}`,
    );
    const cpu = cpuDelta(parked.cpuReady, await api.readCpu());
    driverShare(api, "fanout", cpu, phases.elapsed() - fireStart);
    metric("sets_sent", setter.sent);
    metric("set_errors", setter.errors);
    metric("set_lateness_max_ms", setter.lateness.maxValue / 1000);
    for (const [reason, n] of Object.entries(setter.errorReasons))
      api.result.errorReasons[`set: ${reason}`] = n;
    if (cpu.targetMs !== undefined) {
      metric("server_cpu_fanout_ms", cpu.targetMs);
      metric("server_cpu_per_notification_us", (cpu.targetMs * 1000) / Math.max(1, status.delivered));
    }
    metric("driver_cpu_fanout_ms", cpu.driverMs);
    metric("driver_cpu_per_notification_us", (cpu.driverMs * 1000) / Math.max(1, status.delivered));
  }
  await api.failIfTargetGone(status);

  const reports = await api.takeReports();
  recordConnectLatency(
    api,
    reports.map((r) => r.connectHistogram),
  );
  const total = (k: "delivered" | "duplicates" | "timeouts" | "errors") =>
    reports.reduce((n, r) => n + r[k], 0);
  metric("errors", total("errors"));
  metric("timeouts", total("timeouts"));
  if (sets.length > 0) {
    const last = reports.reduce(
      (m, r) => (r.lastDeliveryNs && BigInt(r.lastDeliveryNs) > m ? BigInt(r.lastDeliveryNs) : m),
      0n,
    );
    metric("expected", expected);
    metric("delivered", total("delivered"));
    metric("missing", Math.max(0, expected - total("delivered")));
    metric("duplicates", total("duplicates"));
    recordNotificationLatency(
      api,
      reports.map((r) => r.latencyHistogram),
    );
    if (last > 0n) metric("time_to_last_delivery_ms", Number(last - fireAtNs) / 1e6);
  }
}
