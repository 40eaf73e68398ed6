// The console summary: a table of the headline figures per scenario, target and repeat, with the
// flags a reader must see (driver-bound, approximate barrier, incomplete). Returns a string.

import type { ScenarioResult } from "../run.ts";

interface Column {
  head: string;
  metric: string;
  /** Digits after the point. */
  digits?: number;
}

const COLUMNS: Column[] = [
  { head: "waiters", metric: "waiters" },
  { head: "in window", metric: "parked_within_window" },
  { head: "parked ms", metric: "all_parked_ms", digits: 0 },
  { head: "overflows", metric: "listen_overflows" },
  { head: "conn p99", metric: "connect_p99_ms", digits: 1 },
  { head: "p50 ms", metric: "latency_p50_ms", digits: 1 },
  { head: "p99 ms", metric: "latency_p99_ms", digits: 1 },
  { head: "max ms", metric: "latency_max_ms", digits: 1 },
  { head: "last ms", metric: "time_to_last_delivery_ms", digits: 1 },
  { head: "delivered", metric: "delivered" },
  { head: "missing", metric: "missing" },
  { head: "errors", metric: "errors" },
  { head: "rss B/w", metric: "target_rss_per_waiter_bytes", digits: 0 },
  { head: "heap B/w", metric: "target_heap_per_waiter_bytes", digits: 0 },
  { head: "srv µs/n", metric: "server_cpu_per_notification_us", digits: 1 },
  { head: "drv µs/n", metric: "driver_cpu_per_notification_us", digits: 1 },
];

export function formatTable(rows: string[][]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length))) ?? [];
  return rows
    .map((r) =>
      r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join("  "),
    )
    .join("\n");
}

export function summaryTable(results: ScenarioResult[]): string {
  const multiTarget = new Set(results.map((r) => r.target)).size > 1;
  const multiRepeat = results.some((r) => r.repeat > 0);
  const used = COLUMNS.filter((c) => results.some((r) => r.metrics.some((m) => m.name === c.metric)));
  const head = ["scenario", ...used.map((c) => c.head), "notes"];
  const body = results.map((r) => {
    const label = `${r.scenario.name}${multiTarget ? ` @${r.target}` : ""}${multiRepeat ? ` #${r.repeat}` : ""}`;
    const cells = used.map((c) => {
      const m = r.metrics.find((x) => x.name === c.metric);
      return m === undefined ? "-" : m.value.toFixed(c.digits ?? 0);
    });
    const notes = [
      r.complete ? "" : "INCOMPLETE",
      r.flags.driverBound ? `driver-bound:${r.flags.driverBoundPhases.join("+")}` : "",
      r.flags.barrierApproximate ? "approx-barrier" : "",
    ]
      .filter(Boolean)
      .join(",");
    return [label, ...cells, notes || "ok"];
  });
  return formatTable([head, ...body]);
}
