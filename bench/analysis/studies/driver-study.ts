// The driver study's two tables, from what its runs measured (bench/cli/driver-study.ts runs them):
// 1. the load side: the harness's driver (one worker) beside the plain raw-socket client
//    (bench/core/yardstick/plain-client.ts), both against the reference server, pinned apart;
// 2. the servers as the harness measures them with that driver, pinned.
// Each cell is the range over the repeats (min–max), so the spread is in plain view.

import type { RunRecord } from "../../core/run-record.ts";
import { median } from "../../statistics/bootstrap.ts";

/** One run of the plain client (its JSON line). */
export interface PlainClientRun {
  waiters: number;
  answered: number;
  errors: number;
  timed_out: boolean;
  cpu_per_connection_us: number;
  cpu_per_notification_us: number | null;
  time_to_last_delivery_ms: number | null;
}

export interface LoadRow {
  client: string;
  runs: number;
  cpuPerNotificationUs: number[];
  cpuPerConnectionUs: number[];
  timeToLastDeliveryMs: number[];
  /** Harness rows: repeats its driver flagged driver-bound (a phase over half busy). */
  driverBound?: number;
}

export interface ServerRow {
  target: string;
  runs: number;
  timeToLastDeliveryMs: number[];
  serverCpuPerWakeUs: number[];
  serverCpuConnectMs: number[];
  rssPerWaiterBytes: number[];
}

const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
const defined = (xs: (number | undefined)[]): number[] => xs.filter((x): x is number => x !== undefined);

/** Table 1's harness row and table 2's rows, from the harness's runs (complete results only). */
export function fromHarness(
  runs: RunRecord[],
  referenceTarget = "reference",
): { load: LoadRow; servers: ServerRow[] } {
  const results = runs.flatMap((r) => r.results).filter((x) => x.complete);
  const reference = results.filter((x) => x.target === referenceTarget);
  const load: LoadRow = {
    client: "this harness's driver (1 worker)",
    runs: reference.length,
    cpuPerNotificationUs: defined(reference.map((x) => num(x.metrics.driver_cpu_per_notification_us))),
    cpuPerConnectionUs: defined(
      reference.map((x) => {
        const ms = num(x.metrics.driver_cpu_connect_ms);
        const waiters = num(x.metrics.waiters);
        return ms === undefined || !waiters ? undefined : (ms * 1000) / waiters;
      }),
    ),
    timeToLastDeliveryMs: defined(reference.map((x) => num(x.metrics.time_to_last_delivery_ms))),
    driverBound: reference.filter((x) => x.flags.driverBound).length,
  };
  const targets = [...new Set(results.map((x) => x.target))];
  const servers = targets.map((target): ServerRow => {
    const rs = results.filter((x) => x.target === target);
    return {
      target,
      runs: rs.length,
      timeToLastDeliveryMs: defined(rs.map((x) => num(x.metrics.time_to_last_delivery_ms))),
      serverCpuPerWakeUs: defined(rs.map((x) => num(x.metrics.server_cpu_per_notification_us))),
      serverCpuConnectMs: defined(rs.map((x) => num(x.metrics.server_cpu_connect_ms))),
      rssPerWaiterBytes: defined(rs.map((x) => num(x.metrics.target_rss_per_waiter_bytes))),
    };
  });
  return { load, servers };
}

/** Table 1's plain-client row: runs that delivered every notification only (a partial run is no yardstick). */
export function fromPlainClient(runs: PlainClientRun[]): LoadRow {
  const whole = runs.filter((r) => !r.timed_out && r.errors === 0 && r.answered === r.waiters);
  return {
    client: "plain raw-socket client (bench/core/yardstick/plain-client.ts)",
    runs: whole.length,
    cpuPerNotificationUs: defined(whole.map((r) => r.cpu_per_notification_us ?? undefined)),
    cpuPerConnectionUs: whole.map((r) => r.cpu_per_connection_us),
    timeToLastDeliveryMs: defined(whole.map((r) => r.time_to_last_delivery_ms ?? undefined)),
  };
}

/** "min–max" to the digits given; one value alone; "—" (with why) when nothing was measured. */
export function range(xs: number[], digits = 1): string {
  if (xs.length === 0) return "— (not measured)";
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  const f = (x: number) =>
    x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return lo === hi ? f(lo) : `${f(lo)}–${f(hi)}`;
}

export function renderTables(
  load: LoadRow[],
  servers: ServerRow[],
  waiters: number,
  warmup = 0,
  transport = "long-poll",
): string {
  const lines = [
    `Load side: ${waiters.toLocaleString("en-US")} waiters within 1 s on one key, one /set, against the reference server${transport === "long-poll" ? "" : `, over ${transport} (both clients)`}; target on CPU 0, load on CPU 1; ${warmup > 0 ? `every target warmed up by ${warmup.toLocaleString("en-US")} waiters first` : "targets measured cold (no warm-up)"}.`,
    "",
    "| client | runs | CPU per notification (µs) | CPU per connection (µs) | time to last delivery (ms) |",
    "|---|---|---|---|---|",
    ...load.map(
      (r) =>
        `| ${r.client} | ${r.runs} | ${range(r.cpuPerNotificationUs)} | ${range(r.cpuPerConnectionUs)} | ${range(r.timeToLastDeliveryMs)}${r.driverBound ? ` (driver-bound in ${r.driverBound})` : ""} |`,
    ),
    "",
    "Servers, measured by this harness's driver (1 worker), pinned the same way:",
    "",
    "| server | runs | time to last delivery (ms) | server CPU per wake (µs) | server CPU, connects (ms) | RSS per waiter (B) |",
    "|---|---|---|---|---|---|",
    ...servers.map(
      (r) =>
        `| ${r.target} | ${r.runs} | ${range(r.timeToLastDeliveryMs)} | ${range(r.serverCpuPerWakeUs)} | ${range(r.serverCpuConnectMs, 0)} | ${range(r.rssPerWaiterBytes, 0)} |`,
    ),
  ];
  const harness = load[0];
  const plain = load[1];
  const h = median(harness?.cpuPerNotificationUs ?? []);
  const p = median(plain?.cpuPerNotificationUs ?? []);
  const hc = median(harness?.cpuPerConnectionUs ?? []);
  const pc = median(plain?.cpuPerConnectionUs ?? []);
  if ([h, p, hc, pc].every(Number.isFinite))
    // median() of nothing is NaN
    lines.push(
      "",
      `Medians, driver ÷ plain client: ${(h / p).toFixed(2)}× CPU per notification, ${(hc / pc).toFixed(2)}× CPU per connection.`,
    );
  return lines.join("\n");
}
