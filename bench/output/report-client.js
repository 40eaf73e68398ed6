// Draws report.html's charts in the page with uPlot (inlined beside this script) from the JSON data
// block the report carries. No network: everything it needs is in the page.
/* global uPlot */
(() => {
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const css = getComputedStyle(document.documentElement);
  const color = (name) => css.getPropertyValue(name).trim();
  const PALETTE = ["#2f6fde", "#e8590c", "#2b8a3e", "#ae3ec9", "#c92a2a", "#0b7285", "#5c940d", "#862e9c"];
  const PHASE_FILL = ["rgba(120,140,170,0.10)", "rgba(120,140,170,0.22)"];
  // Two charts a row on a wide page, one on a narrow one (a phone: 390 px); charts follow the window.
  const width = () => {
    const page = document.body.clientWidth;
    return page < 760 ? Math.max(200, page - 40) : Math.min(560, page / 2 - 40);
  };
  const charts = [];
  let resizing;
  window.addEventListener("resize", () => {
    clearTimeout(resizing);
    resizing = setTimeout(() => {
      for (const u of charts) u.setSize({ width: width(), height: u.height });
    }, 100);
  });
  /** One colour per target (its place in the scenario's list of series), the same in every chart. */
  const colourOf = (i) => PALETTE[i % PALETTE.length];
  /** The lines of one target's chart: its colour, told apart by dash. */
  const DASHES = [[], [6, 3], [2, 3]];

  const axis = (label, extra = {}) => ({
    label,
    stroke: color("--muted"),
    grid: { stroke: color("--grid"), width: 1 },
    ticks: { stroke: color("--grid"), width: 1 },
    ...extra,
  });

  /**
   * A chart of the series that have data; those without are left out and named under it. A static
   * legend (labels only): the page is read printed and as a screenshot, not only hovered.
   */
  function chart(host, title, opts, table) {
    const keep = [0];
    const empty = [];
    for (let i = 1; i < opts.series.length; i++) {
      if ((table[i] ?? []).some((v) => v !== null && v !== undefined)) keep.push(i);
      else empty.push(opts.series[i].label);
    }
    if (keep.length === 1) return undefined;
    const box = document.createElement("div");
    box.className = "chart";
    box.dataset.title = title;
    const h = document.createElement("h3");
    h.textContent = title;
    box.appendChild(h);
    host.appendChild(box);
    const u = new uPlot(
      {
        width: width(),
        height: 260,
        legend: { live: false },
        ...opts,
        series: keep.map((i) => opts.series[i]),
      },
      keep.map((i) => table[i]),
      box,
    );
    charts.push(u);
    if (empty.length) {
      const note = document.createElement("p");
      note.className = "note";
      note.textContent = `no data: ${empty.join(", ")}`;
      box.appendChild(note);
    }
    return u;
  }

  /** Shade the phases of a run (connect, ready, fire, collect, drain) behind the lines. */
  const phaseBands = (phases) => ({
    hooks: {
      drawClear: [
        (u) => {
          const { ctx } = u;
          ctx.save();
          ctx.font = `${10 * devicePixelRatio}px system-ui`;
          // A label only where it fits its band and does not run into the previous one.
          let freeFrom = Number.NEGATIVE_INFINITY;
          phases.forEach((p, i) => {
            const x0 = u.valToPos(p.from, "x", true);
            const x1 = u.valToPos(p.to, "x", true);
            if (!Number.isFinite(x0) || !Number.isFinite(x1) || x1 <= x0) return;
            ctx.fillStyle = PHASE_FILL[i % 2];
            ctx.fillRect(x0, u.bbox.top, x1 - x0, u.bbox.height);
            const text = ctx.measureText(p.name).width;
            const at = x0 + 3 * devicePixelRatio;
            if (text + 6 * devicePixelRatio > x1 - x0 || at < freeFrom) return;
            ctx.fillStyle = color("--muted");
            ctx.fillText(p.name, at, u.bbox.top + 12 * devicePixelRatio);
            freeFrom = at + text + 4 * devicePixelRatio;
          });
          ctx.restore();
        },
      ],
    },
  });

  const line = (label, i, extra = {}) => ({
    label,
    stroke: colourOf(i),
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
    if (s.events.length > 0) {
      // Every target on one time axis: t = 0 at the first set's scheduled send.
      const table = uPlot.join(s.events.map((e) => [e.t, e.perSecond]));
      chart(
        host,
        "deliveries per second over time (t = 0 at the first set)",
        {
          scales: { x: { time: false } },
          axes: [axis("ms after the first set"), axis("deliveries / s", { size: 70 })],
          series: [
            { label: "ms" },
            ...s.events.map((e) =>
              line(e.name, e.colour, uPlot.paths.stepped ? { paths: uPlot.paths.stepped({ align: 1 }) } : {}),
            ),
          ],
        },
        table,
      );
      const latency = uPlot.join(s.events.map((e) => [e.t, e.latencyMs]));
      chart(
        host,
        "mean notification latency of each moment's deliveries",
        {
          scales: { x: { time: false } },
          axes: [axis("ms after the first set"), axis("ms")],
          series: [{ label: "ms" }, ...s.events.map((e) => line(e.name, e.colour, { spanGaps: false }))],
        },
        latency,
      );
    }
    const ramps = s.timeseries.filter((ts) => ts.ramp !== null);
    if (ramps.length > 0) {
      // Every target's connect ramp on one axis: parked waiters, t = 0 at the first arrival.
      const pick = (ts) => {
        const keep = ts.t.map((t) => t >= ts.ramp.from - 0.05 && (ts.ramp.to === null || t <= ts.ramp.to));
        return [
          ts.t.filter((_, i) => keep[i]).map((t) => t - ts.ramp.from),
          ts.parked.filter((_, i) => keep[i]),
        ];
      };
      chart(
        host,
        "parked waiters while connecting (t = 0 at the first arrival)",
        {
          scales: { x: { time: false } },
          axes: [axis("s after the first arrival"), axis("parked", { size: 60 })],
          series: [{ label: "s" }, ...ramps.map((ts) => line(ts.name, ts.colour))],
        },
        uPlot.join(ramps.map(pick)),
      );
    }
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
          series: [{ label: "1/(1−p)" }, ...lines.map((l) => line(l.name, l.colour))],
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
            line("parked waiters (solid)", ts.colour, { scale: "y", dash: DASHES[0] }),
            line("target RSS, MiB (dashed)", ts.colour, { scale: "MiB", dash: DASHES[1] }),
            line("target heap, MiB (dotted)", ts.colour, { scale: "MiB", dash: DASHES[2] }),
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
            line("target CPU % (solid)", ts.colour, { scale: "y", dash: DASHES[0] }),
            line("driver CPU % (dashed)", ts.colour, { scale: "y", dash: DASHES[1] }),
            line("driver event-loop delay, ms (dotted)", ts.colour, { scale: "ms", dash: DASHES[2] }),
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
