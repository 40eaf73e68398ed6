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
import { metricSpec } from "../core/metrics/catalog.ts";
import { decodeHistogram, percentileRows } from "../core/metrics/histograms.ts";
import { SCENARIO_TYPES, type ScenarioType, scenarioModuleOf } from "../core/scenario.ts";
import { median } from "../statistics/bootstrap.ts";
import { leastSquares } from "../statistics/least-squares.ts";
import { readable } from "./console.ts";
import { newestOf } from "./new-files.ts";
import { formatValue } from "./verdict.ts";

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

/** A series' figure over its complete repeats: the median (what tables, ratios and bars show) and the range. */
function metricOver(
  s: Series,
  scenario: string,
  metric: string,
): { median: number; min: number; max: number; n: number } | undefined {
  const values = s.run.record.results
    .filter((r) => r.scenario === scenario && r.target === s.target && r.complete)
    .map((r) => r.metrics[metric])
    .filter((v): v is number => typeof v === "number");
  if (values.length === 0) return undefined;
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), n: values.length };
}

function medianMetric(s: Series, scenario: string, metric: string): number | undefined {
  return metricOver(s, scenario, metric)?.median;
}

const plural = (n: number, word: string) => `${n.toLocaleString("en-US")} ${word}${n === 1 ? "" : "s"}`;

/** Which way is better for a metric (the catalogue's), or undefined where neither is. */
function betterOf(metric: string): "smaller" | "larger" | undefined {
  const better = metricSpec(metric)?.better;
  return better === "smaller" || better === "larger" ? better : undefined;
}

/**
 * The best series for a metric and each series' ratio to the first: undefined where the metric has
 * no direction, fewer than two series measured it, or all are equal.
 */
function ranking(values: (number | undefined)[], metric: string) {
  const better = betterOf(metric);
  const measured = values.filter((v): v is number => v !== undefined);
  if (!better || measured.length < 2 || measured.every((v) => v === measured[0])) return undefined;
  const best = better === "smaller" ? Math.min(...measured) : Math.max(...measured);
  return { better, best, bestIndex: values.indexOf(best) };
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

/** Where a run's connect ramp is on its timeseries (seconds): from its first arrival to the fire phase. */
function rampOf(phases: { phase: string; start_ms: number; duration_ms: number }[]) {
  const connect = phases.find((p) => p.phase === "connect");
  if (connect === undefined) return null;
  const end = phases.find((p) => p.phase === "fire") ?? phases.find((p) => p.phase === "drain");
  const from = (connect.start_ms + 100) / 1000;
  return { from, to: end ? end.start_ms / 1000 : null };
}

/** The figure that picks the repeat a series' charts show: the first of these the scenario records. */
const CHARTED_BY = ["latency_p99_ms", "connect_p99_ms", "timeout_lateness_p99_ms", "set_rps"];

/**
 * The repeat a series' charts show: the complete one whose CHARTED_BY figure is the median (with an
 * even count, the lower middle one), so the chart and the table's median agree on that figure;
 * repeat 0 where no repeat completed with it.
 */
function chartedRepeat(s: Series, scenario: string): number {
  const runs = s.run.record.results.filter((r) => r.scenario === scenario && r.target === s.target);
  for (const metric of CHARTED_BY) {
    const measured = runs
      .filter((r) => r.complete && typeof r.metrics[metric] === "number")
      .sort((a, b) => (a.metrics[metric] as number) - (b.metrics[metric] as number));
    if (measured.length > 0)
      return (measured[Math.floor((measured.length - 1) / 2)] as { repeat: number }).repeat;
  }
  return runs[0]?.repeat ?? 0;
}

function scenarioData(runs: LoadedRun[], scenario: string) {
  const series = seriesOf(runs, scenario).map((s, i) => ({
    ...s,
    repeat: chartedRepeat(s, scenario),
    colour: i,
  }));
  const repeatsOf = (s: Series) =>
    s.run.record.results.filter((r) => r.scenario === scenario && r.target === s.target).length;
  const label = (s: Series & { repeat: number }) =>
    repeatsOf(s) > 1 ? `${s.name} (repeat ${s.repeat})` : s.name;
  const distributions: Record<string, { name: string; colour: number; points: [number, number][] }[]> = {};
  for (const kind of ["latency", "connect", "lateness", "request", "get"]) {
    const lines = series.flatMap((s) => {
      const encoded = s.run.histograms[scenario]?.[kind]?.[s.target]?.[s.repeat];
      return encoded ? [{ name: label(s), colour: s.colour, points: distribution(encoded) }] : [];
    });
    if (lines.some((l) => l.points.length > 0)) distributions[kind] = lines;
  }
  const timeseries = series.flatMap((s) => {
    const rows = (s.run.timeseries[scenario] ?? []).filter(
      (r) => r.target === s.target && r.repeat === String(s.repeat),
    );
    if (rows.length === 0) return [];
    const result = s.run.record.results.find(
      (r) => r.scenario === scenario && r.target === s.target && r.repeat === s.repeat,
    );
    const num = (v: string | undefined) => (v === undefined || v === "" ? null : Number(v));
    const sampled = downsample(rows);
    return [
      {
        name: label(s),
        colour: s.colour,
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
        // The connect ramp on a shared axis: t = 0 at the first arrival, which the run schedules
        // 100 ms after the connect phase begins (runners/parking.ts), until the fire phase.
        ramp: rampOf(result?.phases ?? []),
        phases: (result?.phases ?? []).map((p) => ({
          name: p.phase,
          from: p.start_ms / 1000,
          to: (p.start_ms + p.duration_ms) / 1000,
        })),
      },
    ];
  });
  // The event: every target's deliveries over time on one axis (t = 0 at the first set).
  const events = series.flatMap((s) => {
    const rows = (s.run.deliveries[scenario] ?? []).filter(
      (r) => r.target === s.target && r.repeat === String(s.repeat),
    );
    if (rows.length === 0) return [];
    const bucketMs = Number(rows[0]?.bucket_ms ?? 10);
    return [
      {
        name: label(s),
        colour: s.colour,
        t: rows.map((r) => Number(r.t_ms)),
        perSecond: rows.map((r) => (Number(r.deliveries) * 1000) / bucketMs),
        latencyMs: rows.map((r) => (r.latency_mean_ms === "" ? null : Number(r.latency_mean_ms))),
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
  return { distributions, events, timeseries, sweep };
}

/** A table in its own scrolling box: on a narrow screen it scrolls sideways, the page does not. */
function table(head: string[], rows: string[][], cls = ""): string {
  return `<div class="scroll"><table class="${cls}"><thead><tr>${head.map((h) => `<th>${h}</th>`).join("")}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.join("")}</tr>`)
    .join("")}</tbody></table></div>`;
}

function figuresTable(series: Series[], scenario: string, type: string): string {
  const metrics = headlinesOf(type).filter(([m]) =>
    series.some((s) => medianMetric(s, scenario, m) !== undefined),
  );
  if (metrics.length === 0) return "";
  const rows = metrics.map(([metric, label, digits]) => {
    const figures = series.map((s) => metricOver(s, scenario, metric));
    const values = figures.map((f) => f?.median);
    const max = Math.max(...values.map((v) => Math.abs(v ?? 0)), 0);
    const rank = ranking(values, metric);
    const first = values[0];
    const direction = betterOf(metric);
    return [
      `<td>${esc(label)}${direction ? ` <small>${direction === "smaller" ? "↓ better" : "↑ better"}</small>` : ""}</td>`,
      ...figures.map((f, i) => {
        if (f === undefined)
          return `<td class="absent" data-series="${esc(series[i]?.name)}" data-metric="${metric}">–</td>`;
        const v = f.median;
        const best = rank !== undefined && v === rank.best;
        // Bars: length is the figure; colour says whether it is the best (green) or not (amber).
        const bar =
          series.length > 1 && max > 0
            ? `<span class="bar${rank ? (best ? " good" : " behind") : ""}" style="width:${((Math.abs(v) / max) * 100).toFixed(1)}%"></span>`
            : "";
        const ratio =
          series.length > 1 && i > 0 && first !== undefined && first !== 0
            ? ` <small class="ratio">${(v / first).toFixed(2)}×</small>`
            : "";
        const range =
          f.n > 1 && f.min !== f.max
            ? `<br><small>${readable(f.min, digits)}–${readable(f.max, digits)}</small>`
            : "";
        return `<td class="${best ? "best" : ""}" data-series="${esc(series[i]?.name)}" data-metric="${metric}" data-value="${v}"><span class="num">${readable(v, digits)}</span>${ratio}${range}${bar}</td>`;
      }),
    ];
  });
  const counts = series.map(
    (s) => s.run.record.results.filter((r) => r.scenario === scenario && r.target === s.target).length,
  );
  const repeats = Math.max(...counts);
  const same = counts.every((n) => n === counts[0]);
  // Runs overlaid may differ in repeats (a pooled baseline of 50 beside a run of 5): each column says its own.
  const head = !same
    ? "median over repeats (range below)"
    : repeats > 1
      ? `median of ${plural(repeats, "repeat")} (range below)`
      : "one repeat";
  const names = series.map((s, i) =>
    same ? esc(s.name) : `${esc(s.name)}<br><small>${plural(counts[i] as number, "repeat")}</small>`,
  );
  return `${table([head, ...names], rows, "figures")}${
    series.length > 1
      ? `<p><small>Ratios are to ${esc(series[0]?.name)}; the best figure of a row is in bold with a green bar. Tables, ratios and the verdict above use the same medians over complete repeats.</small></p>`
      : ""
  }`;
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

/** The verdict, above everything: each run's thresholds (✓/✗), then who won each headline figure. */
function verdictBanner(runs: LoadedRun[], scenarios: { name: string; type: string }[]): string {
  const parts: string[] = [];
  for (const run of runs) {
    const verdicts = run.record.thresholds;
    if (verdicts === undefined) continue; // a run made before thresholds existed
    const failed = verdicts.filter((v) => !v.pass);
    const prefix = runs.length > 1 ? `${esc(run.label)}: ` : "";
    parts.push(
      `<div class="banner ${failed.length ? "fail" : "pass"}" data-verdict="${failed.length ? "fail" : "pass"}" data-exit-code="${esc(run.record.exit_code)}">${prefix}<b>${
        failed.length ? "FAIL" : "PASS"
      }</b>: ${
        failed.length
          ? `${plural(failed.length, "threshold")} of ${verdicts.length.toLocaleString("en-US")} failed`
          : `${plural(verdicts.length, "threshold")} met`
      } <small>(exit code ${esc(run.record.exit_code)})</small>${
        failed.length
          ? `<ul>${failed
              .map(
                (v) =>
                  `<li>✗ ${esc(v.scenario)} @${esc(v.target)}: ${esc(v.metric)} ${esc(v.condition)}: ${esc(formatValue(v))} <small>[${esc(v.source)}]</small></li>`,
              )
              .join("")}</ul>`
          : ""
      }</div>`,
    );
  }
  const wins: string[] = [];
  for (const s of scenarios) {
    const series = seriesOf(runs, s.name);
    if (series.length < 2) continue;
    for (const [metric, label, digits] of headlinesOf(s.type)) {
      const values = series.map((x) => medianMetric(x, s.name, metric));
      const rank = ranking(values, metric);
      if (!rank) continue;
      const winner = series[rank.bestIndex] as Series;
      const first = values[0];
      const others = series
        .map((x, i) => ({ x, v: values[i] }))
        .filter(({ v }, i) => i !== rank.bestIndex && v !== undefined)
        .map(({ x, v }) => `${esc(x.name)} ${readable(v as number, digits)}`);
      const ratio =
        rank.bestIndex > 0 && first !== undefined && first !== 0
          ? ` (${(rank.best / first).toFixed(2)}× ${esc(series[0]?.name)})`
          : "";
      wins.push(
        `<tr><td>${esc(s.name)}</td><td>${esc(label)}</td><td class="best">${esc(winner.name)} ${readable(rank.best, digits)}${ratio}</td><td>${others.join(", ")}</td></tr>`,
      );
    }
  }
  if (wins.length)
    parts.push(
      `<h2>Who won</h2><div class="scroll"><table class="wins"><thead><tr><th>scenario</th><th>figure</th><th>best (median)</th><th>the others</th></tr></thead><tbody>${wins.join("")}</tbody></table></div>`,
    );
  return parts.join("\n");
}

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
table.wins td, table.wins th { text-align: left; }
table.figures td { position: relative; min-width: 90px; } .bar { position: absolute; left: 0; bottom: 1px; height: 3px; background: var(--bar); }
.bar.good { background: var(--good); } .bar.behind { background: var(--warn); } td.best .num { font-weight: bold; } .ratio { color: var(--muted); }
.banner { border-radius: 6px; padding: 8px 12px; margin: 8px 0; border-left: 6px solid; } .banner.pass { border-color: var(--good); background: var(--panel); } .banner.fail { border-color: var(--bad); background: var(--panel); }
.banner ul { margin: 4px 0 0; padding-left: 18px; } .scroll { overflow-x: auto; max-width: 100%; }
@media (max-width: 600px) { body { padding: 8px; } th, td { padding: 2px 5px; } table.figures td { min-width: 0; } }
.verdict.regression, .verdict.worse { color: var(--bad); font-weight: bold; } .verdict.pass, .verdict.better, .verdict.improvement, .verdict.unchanged { color: var(--good); }
.verdict.unresolved { color: var(--warn); font-weight: bold; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; } .chart { background: var(--panel); border-radius: 6px; padding: 6px; }
.chart h3 { font-size: 13px; margin: 2px 6px; font-weight: 600; } ul.warnings li { color: var(--bad); } .chart .note { color: var(--muted); font-size: 12px; margin: 2px 6px; }
pre { background: var(--panel); padding: 8px; overflow: auto; } p, li, h1, h2 { overflow-wrap: anywhere; }
@media print { .chart { break-inside: avoid; } body { max-width: none; } }
</style></head>
<body>
<h1>${esc(title)}</h1>
${verdictBanner(runs, scenarios)}
${runs.map((r) => verdictTable(r, "gate.csv")).join("")}
${table(["run", "started", "runtime", "CPU", "commit", "status"], envRows, "env")}
<p><small>${esc(runs.map((r) => `${r.label}: ${(r.record.command ?? []).join(" ")}`).join(" · "))}</small></p>
${warnings.length ? `<h2>Warnings</h2><ul class="warnings">${warnings.map((w) => `<li>${esc(w)}</li>`).join("")}</ul>` : ""}
${sections.join("\n")}
${runs.map((r) => verdictTable(r, "compare.csv")).join("")}
<p><small>Tables, ratios and “who won” are medians over each target's complete repeats. Charts show one repeat per target, the one whose latency p99 (or, without latency, connect p99) is the median, so a chart and its table agree on that figure; every repeat is in the .hlog and timeseries-*.csv files. Latency distributions are drawn from the HDR histograms on the HdrHistogram percentile axis, 1/(1−p). One colour per target in every chart.</small></p>
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
