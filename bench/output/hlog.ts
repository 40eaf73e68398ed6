// The .hlog file of a scenario: its encoded HDR histograms in the HdrHistogram log format, one
// interval line per target × repeat × kind, tagged, so they merge across runs and hosts with any
// HdrHistogram log reader.

import { HistogramLogWriter } from "hdr-histogram-js";
import { decodeHistogram, tagSafe } from "../core/metrics/histograms.ts";
import type { ScenarioResult } from "../core/result.ts";

export function hlogText(results: ScenarioResult[], startedAtMs: number): string {
  let text = "";
  const writer = new HistogramLogWriter((chunk) => {
    text += chunk;
  });
  writer.outputComment("longpoll-bench histograms; values in microseconds; tag = kind.target.repeat");
  writer.outputLogFormatVersion();
  writer.outputStartTime(startedAtMs);
  writer.outputLegend();
  for (const r of results) {
    // The interval is the run's own: from its start (after the log's StartTime) for its length.
    const start = Math.max(0, r.startedAtMs - startedAtMs) / 1000;
    const end = start + r.phases.reduce((s, p) => s + p.duration_ms, 0) / 1000;
    for (const kind of ["latency", "connect", "lateness", "request", "get"] as const) {
      const encoded = r.histograms[kind];
      if (!encoded) continue;
      const h = decodeHistogram(encoded);
      if (h.totalCount === 0) continue;
      h.tag = tagSafe(`${kind}.${r.target}.r${r.repeat}`);
      writer.outputIntervalHistogram(h, start, end, 1000);
    }
    // Load from agents: each agent's own latency histogram, beside the merged one.
    for (const a of r.agents ?? []) {
      if (!a.latency) continue;
      const h = decodeHistogram(a.latency);
      if (h.totalCount === 0) continue;
      h.tag = tagSafe(`latency.${r.target}.r${r.repeat}.agent.${a.name}`);
      writer.outputIntervalHistogram(h, start, end, 1000);
    }
  }
  return text;
}
