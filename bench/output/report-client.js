// Draws report.html's charts in the page with uPlot (inlined beside this script) from the JSON data
// block the report carries. No network: everything it needs is in the page.
/* global uPlot */
(() => {
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const css = getComputedStyle(document.documentElement);
  const color = (name) => css.getPropertyValue(name).trim();
  const PALETTE = ["#2f6fde", "#e8590c", "#2b8a3e", "#ae3ec9", "#c92a2a", "#0b7285", "#5c940d", "#862e9c"];
  const PHASE_FILL = ["rgba(120,140,170,0.10)", "rgba(120,140,170,0.22)"];
  const width = () => Math.min(560, Math.max(320, document.body.clientWidth / 2 - 40));

  const axis = (label, extra = {}) => ({
    label,
    stroke: color("--muted"),
    grid: { stroke: color("--grid"), width: 1 },
    ticks: { stroke: color("--grid"), width: 1 },
    ...extra,
  });

  function chart(host, title, opts, table) {
    const box = document.createElement("div");
    box.className = "chart";
    box.dataset.title = title;
    const h = document.createElement("h3");
    h.textContent = title;
    box.appendChild(h);
    host.appendChild(box);
    return new uPlot({ width: width(), height: 260, ...opts }, table, box);
  }

  /** Shade the phases of a run (connect, ready, fire, collect, drain) behind the lines. */
  const phaseBands = (phases) => ({
    hooks: {
      drawClear: [
        (u) => {
          const { ctx } = u;
          ctx.save();
          phases.forEach((p, i) => {
            const x0 = u.valToPos(p.from, "x", true);
            const x1 = u.valToPos(p.to, "x", true);
            if (!Number.isFinite(x0) || !Number.isFinite(x1) || x1 <= x0) return;
            ctx.fillStyle = PHASE_FILL[i % 2];
            ctx.fillRect(x0, u.bbox.top, x1 - x0, u.bbox.height);
            ctx.fillStyle = color("--muted");
            ctx.font = `${10 * devicePixelRatio}px system-ui`;
            ctx.fillText(p.name, x0 + 3 * devicePixelRatio, u.bbox.top + 12 * devicePixelRatio);
          });
          ctx.restore();
        },
      ],
    },
  });

  const line = (label, i, extra = {}) => ({
    label,
    stroke: PALETTE[i % PALETTE.length],
    width: 1.5,
    spanGaps: true,
    points: { show: false },
    ...extra,
  });

  /** The HdrHistogram percentile axis: ticks at 1/(1−p) = 1, 2, 10, 100 ... (0%, 50%, 90%, 99% ...). */
  const PERCENTILE_TICKS = [1, 10, 100, 1000, 10000, 100000, 1000000];
  const percentileLabel = (v) => {
    if (!Number.isFinite(v) || v < 1) return "";
    const p = 100 - 100 / v;
    return `${p < 1e-9 ? "0" : p.toFixed(Math.max(0, Math.round(Math.log10(v)) - 2))}%`;
  };

  const KIND_TITLE = {
    latency: "notification latency (scheduled send → arrival)",
    connect: "connect latency (scheduled arrival → connected)",
    lateness: "timeout lateness (answer − written − timeout)",
    request: "/set request latency (autocannon)",
    get: "/get request latency (autocannon)",
  };

  data.scenarios.forEach((s, si) => {
    const host = document.querySelector(`.charts[data-scenario="${si}"]`);
    if (!host) return;
    for (const [kind, lines] of Object.entries(s.distributions)) {
      const table = uPlot.join(lines.map((l) => [l.points.map((p) => p[0]), l.points.map((p) => p[1])]));
      chart(
        host,
        `${KIND_TITLE[kind] ?? kind}: percentile distribution`,
        {
          scales: { x: { time: false, distr: 3, log: 10 }, y: { distr: 3, log: 10 } },
          axes: [
            axis("percentile", {
              splits: (u) =>
                PERCENTILE_TICKS.filter((v) => v >= u.scales.x.min / 1.01 && v <= u.scales.x.max * 1.01),
              values: (_u, ticks) => ticks.map(percentileLabel),
            }),
            axis("ms"),
          ],
          series: [{ label: "1/(1−p)" }, ...lines.map((l, i) => line(l.name, i))],
        },
        table,
      );
    }
    for (const ts of s.timeseries) {
      chart(
        host,
        `${ts.name}: parked waiters and memory over time`,
        {
          scales: { x: { time: false } },
          axes: [
            axis("s"),
            axis("parked", { scale: "y" }),
            axis("MiB", { scale: "MiB", side: 1, grid: { show: false } }),
          ],
          series: [
            { label: "t (s)" },
            line("parked waiters", 0, { scale: "y" }),
            line("target RSS (MiB)", 1, { scale: "MiB" }),
            line("target heap (MiB)", 2, { scale: "MiB" }),
          ],
          ...phaseBands(ts.phases),
        },
        [ts.t, ts.parked, ts.rssMb, ts.heapMb],
      );
      chart(
        host,
        `${ts.name}: CPU (% of one core) and driver event-loop delay`,
        {
          scales: { x: { time: false } },
          axes: [
            axis("s"),
            axis("% of a core", { scale: "y" }),
            axis("ms", { scale: "ms", side: 1, grid: { show: false } }),
          ],
          series: [
            { label: "t (s)" },
            line("target CPU %", 0, { scale: "y" }),
            line("driver CPU %", 1, { scale: "y" }),
            line("driver event-loop delay (ms)", 2, { scale: "ms" }),
          ],
          ...phaseBands(ts.phases),
        },
        [ts.t, ts.targetCpu, ts.driverCpu, ts.loopDelay],
      );
    }
    if (s.sweep.length > 0) {
      const table = uPlot.join(
        s.sweep.flatMap((w) => [
          [w.waiters, w.rssMb],
          [w.waiters, w.heapMb],
        ]),
      );
      const fmt = (v) => (v === null ? "–" : `${Math.round(v)} B/waiter`);
      chart(
        host,
        "memory sweep: waiters vs RSS and heap (after GC)",
        {
          scales: { x: { time: false } },
          axes: [axis("parked waiters"), axis("MiB")],
          series: [
            { label: "waiters" },
            ...s.sweep.flatMap((w, i) => [
              line(`${w.name} RSS (slope ${fmt(w.slopeRss)})`, 2 * i),
              line(`${w.name} heap (slope ${fmt(w.slopeHeap)})`, 2 * i + 1, { dash: [4, 3] }),
            ]),
          ],
        },
        table,
      );
    }
  });
  document.body.dataset.chartsDrawn = String(document.querySelectorAll(".chart canvas").length);
})();
