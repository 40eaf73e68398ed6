// The console summary: a table of the headline figures per scenario, target and repeat, with the
// flags a reader must see (driver-bound, approximate barrier, incomplete). Returns a string.

import { isComplete, type ScenarioResult } from "../core/result.ts";
import { scenarioModuleOf } from "../core/scenario.ts";

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

/** A figure for reading: thousands separated (10,000), with the column's decimals. */
export function readable(value: number, digits: number): string {
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function formatTable(rows: string[][]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length))) ?? [];
  return rows
    .map((r) =>
      r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join("  "),
    )
    .join("\n");
}

/** The width a summary table keeps to (a terminal, a CI log); --wide does not. */
export const MAX_COLUMNS = 120;

const widest = (text: string) => Math.max(...text.split("\n").map((l) => l.length));

/**
 * A table within MAX_COLUMNS: as it is if it fits; else its notes (the last column) go on a line of
 * their own under each row; if that is still too wide, columns are left out from the right (their
 * heads are added to `hidden`, for the legend).
 */
function fitTable(rows: string[][], hidden: string[]): string {
  const whole = formatTable(rows);
  if (widest(whole) <= MAX_COLUMNS) return whole;
  let cols = rows.map((r) => r.slice(0, -1));
  const notes = rows.map((r) => r[r.length - 1] as string);
  while (widest(formatTable(cols)) > MAX_COLUMNS && (cols[0]?.length ?? 0) > 2) {
    hidden.push(cols[0]?.[cols[0].length - 1] as string);
    cols = cols.map((r) => r.slice(0, -1));
  }
  return formatTable(cols)
    .split("\n")
    .flatMap((line, i) => (i === 0 || notes[i] === "ok" ? [line] : [line, ...noteLines(notes[i] as string)]))
    .join("\n");
}

/** A row's notes under it, wrapped between notes to MAX_COLUMNS. */
function noteLines(notes: string): string[] {
  const lines: string[] = [];
  let line = "    notes:";
  for (const note of notes.split("; ")) {
    const next = `${line}${line.endsWith(":") ? " " : "; "}${note}`;
    if (next.length > MAX_COLUMNS && !line.endsWith(":")) {
      lines.push(`${line};`);
      line = `           ${note}`;
    } else line = next;
  }
  lines.push(line);
  return lines;
}

/** One table per scenario type, each with that type's headline columns. */
export function summaryTable(results: ScenarioResult[], wide = false): string {
  const multiTarget = new Set(results.map((r) => r.target)).size > 1;
  const multiRepeat = results.some((r) => r.repeat > 0);
  const types = [...new Set(results.map((r) => r.scenario.type))];
  const legend = new Map<string, string>();
  const hidden: string[] = [];
  const tables = types
    .map((type) => {
      const rows = results.filter((r) => r.scenario.type === type);
      const used = scenarioModuleOf(type).columns.filter(
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
          return m === undefined ? "-" : readable(m.value, c.digits ?? 0);
        });
        const value = (name: string) => r.metrics.find((m) => m.name === name)?.value;
        const count = (name: string, label: string, of?: string) => {
          const n = value(name);
          if (n === undefined || n <= 0) return "";
          const total = of === undefined ? undefined : value(of);
          return `${label} ${readable(n, 0)}${total === undefined ? "" : `/${readable(total, 0)}`}`;
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
          .join("; ");
        return [label, ...cells, notes || "ok"];
      });
      return wide ? formatTable([head, ...body]) : fitTable([head, ...body], hidden);
    })
    .join("\n\n");
  const lines = [...legend].map(([head, text]) => `  ${head.padEnd(10)} ${text}`);
  lines.push(
    "  notes      MISSING/LOST/DUP/ERRORS n: notifications that did not come, came twice or failed;",
    "             driver-bound: the driver, not the server, may have set that phase's pace;",
    "             approx-barrier: the target has no parked count",
  );
  const more = hidden.length
    ? `; not shown to fit ${MAX_COLUMNS} columns: ${[...new Set(hidden)].join(", ")}`
    : "";
  return `${tables}\n\nlegend (every figure is in summary.csv; all columns: --wide${more}):\n${lines.join("\n")}`;
}
