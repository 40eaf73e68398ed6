// The console summary: a table of the headline figures per scenario, target and repeat, with the
// flags a reader must see (driver-bound, approximate barrier, incomplete). Returns a string.

import { isComplete, type ScenarioResult } from "../core/result.ts";

interface Column {
  head: string;
  metric: string;
  /** Digits after the point. */
  digits?: number;
  /** Shown with --wide only (the default table fits 120 columns; every figure is in the files). */
  wide?: true;
}

/** What each abbreviated head means, for the legend under the table. */
const LEGEND: Record<string, string> = {
  "in window": "waiters parked when the arrival window ended",
  "parked ms": "time until every waiter was parked (written, for an approximate barrier)",
  overflows: "listen-queue overflows",
  "conn p99": "connect latency p99, ms",
  "p50 ms": "notification latency p50 (scheduled send → arrival)",
  "p99 ms": "notification latency p99",
  "max ms": "notification latency max",
  "last ms": "time from the first set to the last delivery",
  "rss B/w": "target RSS per parked waiter, bytes",
  "heap B/w": "target heap per parked waiter, bytes",
  "srv µs/n": "server CPU per notification, µs",
  "drv µs/n": "driver CPU per notification, µs (the load generator's own cost)",
  "msgs/key": "messages published per key",
  reorder: "messages that came after a later one",
  "late sets": "sets sent over 2 ms behind schedule",
  "srv µs/set": "server CPU per /set, µs",
};

const PARKING: Column[] = [
  { head: "waiters", metric: "waiters" },
  { head: "in window", metric: "parked_within_window", wide: true },
  { head: "parked ms", metric: "all_parked_ms", digits: 0 },
  { head: "overflows", metric: "listen_overflows", wide: true },
  { head: "conn p99", metric: "connect_p99_ms", digits: 1, wide: true },
];
const LATENCY: Column[] = [
  { head: "p50 ms", metric: "latency_p50_ms", digits: 1 },
  { head: "p99 ms", metric: "latency_p99_ms", digits: 1 },
  { head: "max ms", metric: "latency_max_ms", digits: 1, wide: true },
];
const CPU: Column[] = [
  { head: "srv µs/n", metric: "server_cpu_per_notification_us", digits: 1 },
  { head: "drv µs/n", metric: "driver_cpu_per_notification_us", digits: 1 },
];
const MEMORY: Column[] = [
  { head: "rss B/w", metric: "target_rss_per_waiter_bytes", digits: 0 },
  { head: "heap B/w", metric: "target_heap_per_waiter_bytes", digits: 0, wide: true },
];

/** The headline columns of each scenario type's table. */
const COLUMNS: Record<ScenarioResult["scenario"]["type"], Column[]> = {
  burst: [
    ...PARKING,
    ...LATENCY,
    { head: "last ms", metric: "time_to_last_delivery_ms", digits: 1 },
    { head: "delivered", metric: "delivered", wide: true },
    { head: "missing", metric: "missing" },
    { head: "errors", metric: "errors", wide: true },
    ...MEMORY,
    ...CPU,
  ],
  stream: [
    { head: "waiters", metric: "waiters" },
    { head: "msgs/key", metric: "stream_messages_per_key" },
    ...LATENCY,
    { head: "delivered", metric: "delivered" },
    { head: "lost", metric: "lost" },
    { head: "dup", metric: "duplicates" },
    { head: "reorder", metric: "out_of_order" },
    { head: "late sets", metric: "sets_late" },
    { head: "errors", metric: "errors" },
    ...CPU,
  ],
  "timeout-storm": [
    ...PARKING,
    { head: "timeouts", metric: "timeouts" },
    { head: "missing", metric: "missing_timeouts" },
    { head: "extra", metric: "extra_timeouts" },
    { head: "early", metric: "early_timeouts" },
    { head: "late p50", metric: "timeout_lateness_p50_ms", digits: 1 },
    { head: "late p99", metric: "timeout_lateness_p99_ms", digits: 1 },
    { head: "late max", metric: "timeout_lateness_max_ms", digits: 1 },
    { head: "srv cpu ms", metric: "server_cpu_storm_ms", digits: 0 },
  ],
  churn: [
    { head: "waiters", metric: "waiters" },
    { head: "churned", metric: "churned" },
    { head: "errors", metric: "errors" },
    { head: "parked after", metric: "parked_after_drain" },
    { head: "heap before", metric: "heap_before_bytes" },
    { head: "heap after", metric: "heap_after_bytes" },
    { head: "growth", metric: "heap_growth_bytes" },
    { head: "leak", metric: "leak" },
  ],
  "set-throughput": [
    { head: "set/s", metric: "set_rps", digits: 0 },
    { head: "set p50", metric: "set_latency_p50_ms", digits: 2 },
    { head: "set p99", metric: "set_latency_p99_ms", digits: 2 },
    { head: "get/s", metric: "get_rps", digits: 0 },
    { head: "get p50", metric: "get_latency_p50_ms", digits: 2 },
    { head: "get p99", metric: "get_latency_p99_ms", digits: 2 },
    { head: "srv µs/set", metric: "server_cpu_per_set_us", digits: 1 },
    { head: "non-2xx", metric: "non_2xx" },
    { head: "errors", metric: "request_errors" },
  ],
  "memory-sweep": [
    { head: "max waiters", metric: "waiters" },
    { head: "rss B/w (slope)", metric: "memory_slope_rss_bytes_per_waiter", digits: 0 },
    { head: "r²", metric: "memory_fit_r2_rss", digits: 3 },
    { head: "heap B/w (slope)", metric: "memory_slope_heap_bytes_per_waiter", digits: 0 },
    { head: "r²", metric: "memory_fit_r2_heap", digits: 3 },
  ],
};

export function formatTable(rows: string[][]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length))) ?? [];
  return rows
    .map((r) =>
      r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join("  "),
    )
    .join("\n");
}

/** One table per scenario type, each with that type's headline columns. */
export function summaryTable(results: ScenarioResult[], wide = false): string {
  const multiTarget = new Set(results.map((r) => r.target)).size > 1;
  const multiRepeat = results.some((r) => r.repeat > 0);
  const types = [...new Set(results.map((r) => r.scenario.type))];
  const legend = new Map<string, string>();
  const tables = types
    .map((type) => {
      const rows = results.filter((r) => r.scenario.type === type);
      const used = COLUMNS[type].filter(
        (c) => (wide || !c.wide) && rows.some((r) => r.metrics.some((m) => m.name === c.metric)),
      );
      for (const c of used) if (LEGEND[c.head]) legend.set(c.head, LEGEND[c.head] as string);
      const head = [
        type === "burst" ? "scenario" : `scenario (${type})`,
        ...used.map((c) => c.head),
        "notes",
      ];
      const body = rows.map((r) => {
        const label = `${r.scenario.name}${multiTarget ? ` @${r.target}` : ""}${multiRepeat ? ` #${r.repeat}` : ""}`;
        const cells = used.map((c) => {
          const m = r.metrics.find((x) => x.name === c.metric);
          return m === undefined ? "-" : m.value.toFixed(c.digits ?? 0);
        });
        const value = (name: string) => r.metrics.find((m) => m.name === name)?.value;
        const count = (name: string, label: string, of?: string) => {
          const n = value(name);
          if (n === undefined || n <= 0) return "";
          const total = of === undefined ? undefined : value(of);
          return `${label} ${n}${total === undefined ? "" : `/${total}`}`;
        };
        const notes = [
          isComplete(r) ? "" : "INCOMPLETE",
          // What a reader must not miss: expected notifications that did not come, came twice or failed.
          count("missing", "MISSING", "expected"),
          count("lost", "LOST", "expected"),
          count("duplicates", "DUP"),
          count("errors", "ERRORS"),
          count("parked_after_drain", "PARKED-AFTER-DRAIN"),
          r.flags.driverBound ? `driver-bound:${r.flags.driverBoundPhases.join("+")}` : "",
          r.flags.barrierApproximate ? "approx-barrier" : "",
          r.flags.streamMode === "fresh-key" ? "fresh-key" : "",
          (value("leak") ?? 0) > 0 ? "LEAK" : "",
          r.warnings.some((w) => w.includes("stats say")) ? "STATS-IMPOSSIBLE" : "",
        ]
          .filter(Boolean)
          .join(",");
        return [label, ...cells, notes || "ok"];
      });
      return formatTable([head, ...body]);
    })
    .join("\n\n");
  const lines = [...legend].map(([head, text]) => `  ${head.padEnd(10)} ${text}`);
  lines.push(
    "  notes      MISSING/LOST/DUP/ERRORS n: notifications that did not come, came twice or failed;",
    "             driver-bound: the driver, not the server, may have set that phase's pace;",
    "             approx-barrier: the target has no parked count",
  );
  return `${tables}\n\nlegend (every figure is in summary.csv; all columns: --wide):\n${lines.join("\n")}`;
}
