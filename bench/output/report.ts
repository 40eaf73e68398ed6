// report.html: one self-contained page for one or more run folders (bench, peers, gate), with uPlot
// and the data inlined (no network; opens from disk). Built from what report/load.ts read back from
// the folders: latency distributions from the HDR histograms on the HdrHistogram "1/(1−p)" axis,
// timeseries with the phases shaded, the memory sweep with its fitted slope, side-by-side bars,
// gate/compare ratios, the environment, warnings and scenario definitions. Figures in tables are
// rendered here (so a test can read them); charts are drawn in the page by report-client.js.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { LoadedRun } from "../analysis/run-folders.ts";
import { parseCsv } from "../analysis/run-folders.ts";
import { decodeHistogram, percentileRows } from "../core/metrics/histograms.ts";
import { SCENARIO_TYPES, type ScenarioType, scenarioModuleOf } from "../core/scenario.ts";
import { median } from "../statistics/bootstrap.ts";
import { leastSquares } from "../statistics/least-squares.ts";
import { newestOf } from "./new-files.ts";

const require = createRequire(import.meta.url);
const UPLOT_JS = require.resolve("uplot/dist/uPlot.iife.min.js");
const UPLOT_CSS = require.resolve("uplot/dist/uPlot.min.css");
const CLIENT_JS = new URL("./report-client.js", import.meta.url).pathname;

/** At most this many points per timeseries line (the page stays small and fast). */
const MAX_POINTS = 1500;

const esc = (s: unknown) =>
  String(s).replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string,
  );

/** JSON safe inside a <script> element. */
const inlineJson = (v: unknown) => JSON.stringify(v).replace(/</g, "\\u003c");

function downsample<T>(rows: T[], max = MAX_POINTS): T[] {
  if (rows.length <= max) return rows;
  const step = rows.length / max;
  return Array.from({ length: max }, (_, i) => rows[Math.floor(i * step)] as T);
}

interface Series {
  /** run label / target (the run label only when several runs are overlaid). */
  name: string;
  run: LoadedRun;
  target: string;
}

function seriesOf(runs: LoadedRun[], scenario: string): Series[] {
  const out: Series[] = [];
  for (const run of runs) {
    const targets = [
      ...new Set(run.record.results.filter((r) => r.scenario === scenario).map((r) => r.target)),
    ];
    for (const target of targets)
      out.push({ name: runs.length > 1 ? `${run.label} / ${target}` : target, run, target });
  }
  return out;
}

function medianMetric(s: Series, scenario: string, metric: string): number | undefined {
  const values = s.run.record.results
    .filter((r) => r.scenario === scenario && r.target === s.target && r.complete)
    .map((r) => r.metrics[metric])
    .filter((v): v is number => typeof v === "number");
  return values.length ? median(values) : undefined;
}

/** Points [1/(1−p), value ms] of a histogram's percentile distribution (the last, p = 1, has no x). */
function distribution(encoded: string): [number, number][] {
  return percentileRows(decodeHistogram(encoded))
    .filter(
      (r) =>
        typeof r.one_over_one_minus_percentile === "number" &&
        Number.isFinite(r.one_over_one_minus_percentile),
    )
    .map((r) => [r.one_over_one_minus_percentile as number, r.value_ms]);
}

function scenarioData(runs: LoadedRun[], scenario: string) {
  const series = seriesOf(runs, scenario);
  const distributions: Record<string, { name: string; points: [number, number][] }[]> = {};
  for (const kind of ["latency", "connect", "lateness", "request", "get"]) {
    const lines = series.flatMap((s) => {
      const encoded = s.run.histograms[scenario]?.[kind]?.[s.target];
      return encoded ? [{ name: s.name, points: distribution(encoded) }] : [];
    });
    if (lines.some((l) => l.points.length > 0)) distributions[kind] = lines;
  }
  const timeseries = series.flatMap((s) => {
    const rows = (s.run.timeseries[scenario] ?? []).filter((r) => r.target === s.target && r.repeat === "0");
    if (rows.length === 0) return [];
    const result = s.run.record.results.find(
      (r) => r.scenario === scenario && r.target === s.target && r.repeat === 0,
    );
    const num = (v: string | undefined) => (v === undefined || v === "" ? null : Number(v));
    const sampled = downsample(rows);
    return [
      {
        name: s.name,
        t: sampled.map((r) => Number(r.t_ms) / 1000),
        parked: sampled.map((r) => num(r.parked_waiters)),
        rssMb: sampled.map((r) =>
          num(r.target_rss_bytes) === null ? null : (num(r.target_rss_bytes) as number) / 2 ** 20,
        ),
        heapMb: sampled.map((r) =>
          num(r.target_heap_bytes) === null ? null : (num(r.target_heap_bytes) as number) / 2 ** 20,
        ),
        targetCpu: sampled.map((r) => num(r.target_cpu_pct)),
        driverCpu: sampled.map((r) => num(r.driver_cpu_pct)),
        loopDelay: sampled.map((r) => num(r.driver_event_loop_delay_ms)),
        phases: (result?.phases ?? []).map((p) => ({
          name: p.phase,
          from: p.start_ms / 1000,
          to: (p.start_ms + p.duration_ms) / 1000,
        })),
      },
    ];
  });
  const sweep = series.flatMap((s) => {
    const rows = (s.run.tables[scenario] ?? []).filter(
      (r) => r.target === s.target && r.repeat === "0" && r.waiters !== undefined,
    );
    if (rows.length < 2) return [];
    const pts = (col: string) =>
      rows
        .filter((r) => r[col] !== "" && r[col] !== "NaN")
        .map((r) => [Number(r.waiters), Number(r[col])] as const);
    const fit = (col: string) => {
      const p = pts(col);
      return p.length >= 2 ? leastSquares(p).slope : null;
    };
    return [
      {
        name: s.name,
        waiters: rows.map((r) => Number(r.waiters)),
        rssMb: rows.map((r) =>
          r.rss_bytes === "" || r.rss_bytes === "NaN" ? null : Number(r.rss_bytes) / 2 ** 20,
        ),
        heapMb: rows.map((r) =>
          r.heap_bytes === "" || r.heap_bytes === "NaN" ? null : Number(r.heap_bytes) / 2 ** 20,
        ),
        slopeRss: fit("rss_bytes"),
        slopeHeap: fit("heap_bytes"),
      },
    ];
  });
  return { distributions, timeseries, sweep };
}

function table(head: string[], rows: string[][], cls = ""): string {
  return `<table class="${cls}"><thead><tr>${head.map((h) => `<th>${h}</th>`).join("")}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.join("")}</tr>`)
    .join("")}</tbody></table>`;
}

function figuresTable(series: Series[], scenario: string, type: string): string {
  const metrics = headlinesOf(type).filter(([m]) =>
    series.some((s) => medianMetric(s, scenario, m) !== undefined),
  );
  if (metrics.length === 0) return "";
  const rows = metrics.map(([metric, label, digits]) => {
    const values = series.map((s) => medianMetric(s, scenario, metric));
    const max = Math.max(...values.map((v) => Math.abs(v ?? 0)), 0);
    return [
      `<td>${esc(label)}</td>`,
      ...values.map((v, i) =>
        v === undefined
          ? `<td class="absent" data-series="${esc(series[i]?.name)}" data-metric="${metric}">–</td>`
          : `<td data-series="${esc(series[i]?.name)}" data-metric="${metric}" data-value="${v}"><span class="num">${v.toFixed(digits)}</span>${
              series.length > 1 && max > 0
                ? `<span class="bar" style="width:${((Math.abs(v) / max) * 100).toFixed(1)}%"></span>`
                : ""
            }</td>`,
      ),
    ];
  });
  const repeats = Math.max(
    ...series.map(
      (s) => s.run.record.results.filter((r) => r.scenario === scenario && r.target === s.target).length,
    ),
  );
  return table([`median of ${repeats} repeat(s)`, ...series.map((s) => esc(s.name))], rows, "figures");
}

function warningsOf(runs: LoadedRun[]): string[] {
  const out: string[] = [];
  for (const run of runs) {
    const prefix = runs.length > 1 ? `${run.label}: ` : "";
    for (const r of run.record.results) {
      const where = `${r.scenario}@${r.target}#${r.repeat}`;
      if (!r.complete) out.push(`${prefix}${where} FAILED: ${r.error?.message ?? "incomplete"}`);
      const flags = r.flags as { driverBoundPhases?: string[]; barrierApproximate?: boolean } | undefined;
      if (flags?.driverBoundPhases?.length)
        out.push(
          `${prefix}${where}: driver-bound in ${flags.driverBoundPhases.join(", ")} (the figures of that phase may be the driver's)`,
        );
      if (flags?.barrierApproximate)
        out.push(`${prefix}${where}: approximate readiness barrier (the target has no parked count)`);
      for (const w of r.warnings ?? []) out.push(`${prefix}${where}: ${w}`);
    }
    for (const s of run.record.skipped ?? []) out.push(`${prefix}${s}`);
  }
  return [...new Set(out)];
}

function verdictTable(run: LoadedRun, file: string): string {
  // A later compare of the same runs writes compare-2.csv (nothing is overwritten): show the newest.
  const path = newestOf(run.dir, file);
  if (path === undefined) return "";
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return "";
  }
  const rows = parseCsv(text);
  if (rows.length === 0) return "";
  const cols = Object.keys(rows[0] as Record<string, string>);
  return `<h2>${file === "gate.csv" ? "CI gate: head ÷ base" : "Comparison"}${runLabel(run)}</h2>${table(
    cols.map(esc),
    rows.map((r) =>
      cols.map((c) => {
        const v = r[c] ?? "";
        const cls =
          c === "verdict" ? ` class="verdict ${esc(v.toLowerCase().replace(/[^a-z]+/g, "-"))}"` : "";
        return `<td${cls}>${esc(/^-?\d+\.\d{4,}$/.test(v) ? Number(v).toFixed(3) : v)}</td>`;
      }),
    ),
    "verdicts",
  )}`;
}

const runLabel = (run: LoadedRun) => ` <small>${esc(run.label)}</small>`;

export function reportHtml(runs: LoadedRun[]): string {
  const scenarios: { name: string; type: string; definition: unknown }[] = [];
  for (const run of runs) {
    for (const s of run.record.scenarios as { name: string; type: string }[]) {
      if (!scenarios.some((x) => x.name === s.name))
        scenarios.push({ name: s.name, type: s.type, definition: s });
    }
  }
  const data = {
    scenarios: scenarios.map((s) => ({ name: s.name, type: s.type, ...scenarioData(runs, s.name) })),
  };
  const envRows = runs.map((run) => {
    const e = run.record.environment as unknown as Record<string, unknown>;
    return [
      `<td>${esc(run.label)}</td>`,
      `<td>${esc(run.record.started_at)}</td>`,
      `<td>${esc(e.node)} · ${esc(e.platform)} · kernel ${esc(e.kernel)}</td>`,
      `<td>${esc(e.cpu_model)} × ${esc(e.cores)}</td>`,
      `<td>${esc(String(e.git_commit ?? "").slice(0, 10))}${e.git_dirty ? " (dirty)" : ""}</td>`,
      `<td>${run.record.complete ? "complete" : "<b>incomplete</b>"}, exit ${esc(run.record.exit_code)}</td>`,
    ];
  });
  const warnings = warningsOf(runs);
  const sections = scenarios.map((s, i) => {
    const series = seriesOf(runs, s.name);
    return `<section class="scenario" id="scenario-${i}">
<h2>${esc(s.name)} <small>${esc(s.type)}</small></h2>
${figuresTable(series, s.name, s.type)}
<div class="charts" data-scenario="${i}"></div>
<details><summary>scenario definition</summary><pre>${esc(JSON.stringify(s.definition, null, 2))}</pre></details>
</section>`;
  });
  const title =
    runs.length === 1
      ? `longpoll-bench ${runs[0]?.label}`
      : `longpoll-bench: ${runs.map((r) => r.label).join(" vs ")}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${readFileSync(UPLOT_CSS, "utf8")}</style>
<style>
:root { --fg: #1d2430; --muted: #5b6575; --bg: #ffffff; --panel: #f5f7fa; --grid: #e3e7ee; --bar: #8db3e2; --bad: #c0392b; --good: #1e8449; --warn: #9a6700; }
@media (prefers-color-scheme: dark) { :root { --fg: #dfe6ef; --muted: #9aa6b6; --bg: #12161c; --panel: #1b2129; --grid: #2a323d; --bar: #3e6da8; --bad: #ff7b6b; --good: #5fd08a; --warn: #e3b341; } }
body { font: 14px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 0 auto; max-width: 1200px; padding: 16px 24px; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 28px; } small { color: var(--muted); font-weight: normal; }
table { border-collapse: collapse; margin: 8px 0; } th, td { padding: 3px 10px; border-bottom: 1px solid var(--grid); text-align: right; }
th:first-child, td:first-child { text-align: left; } td.absent { color: var(--muted); }
table.figures td { position: relative; min-width: 90px; } .bar { position: absolute; left: 0; bottom: 1px; height: 3px; background: var(--bar); }
.verdict.regression, .verdict.worse { color: var(--bad); font-weight: bold; } .verdict.pass, .verdict.better, .verdict.improvement, .verdict.unchanged { color: var(--good); }
.verdict.unresolved { color: var(--warn); font-weight: bold; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; } .chart { background: var(--panel); border-radius: 6px; padding: 6px; }
.chart h3 { font-size: 13px; margin: 2px 6px; font-weight: 600; } ul.warnings li { color: var(--bad); }
pre { background: var(--panel); padding: 8px; overflow: auto; }
@media print { .chart { break-inside: avoid; } body { max-width: none; } }
</style></head>
<body>
<h1>${esc(title)}</h1>
${runs.map((r) => verdictTable(r, "gate.csv")).join("")}
${table(["run", "started", "runtime", "CPU", "commit", "status"], envRows, "env")}
<p><small>${esc(runs.map((r) => `${r.label}: ${(r.record.command ?? []).join(" ")}`).join(" · "))}</small></p>
${warnings.length ? `<h2>Warnings</h2><ul class="warnings">${warnings.map((w) => `<li>${esc(w)}</li>`).join("")}</ul>` : ""}
${sections.join("\n")}
${runs.map((r) => verdictTable(r, "compare.csv")).join("")}
<p><small>Latency distributions are drawn from the HDR histograms (.hlog) on the HdrHistogram percentile axis, 1/(1−p); timeseries show repeat 0 of each target (every repeat is in timeseries-*.csv).</small></p>
<script>${readFileSync(UPLOT_JS, "utf8")}</script>
<script id="report-data" type="application/json">${inlineJson(data)}</script>
<script>${readFileSync(CLIENT_JS, "utf8")}</script>
</body></html>
`;
}

/** A scenario type's headline figures, from its module; none for a type this harness does not know. */
function headlinesOf(type: string): readonly (readonly [string, string, number])[] {
  return SCENARIO_TYPES.includes(type as ScenarioType)
    ? scenarioModuleOf(type as ScenarioType).headlines
    : [];
}
