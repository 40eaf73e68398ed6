// The .hlog file read back with HdrHistogram's own log reader: each run's interval starts when that
// run started (after the log's StartTime) and lasts as long as it ran; tags and counts survive.

import assert from "node:assert/strict";
import { test } from "node:test";
import { HistogramLogReader } from "hdr-histogram-js";
import { encodeHistogram, newHistogram } from "../core/metrics/histograms.ts";
import type { ScenarioResult } from "../core/result.ts";
import { burstScenario } from "../testing/scenario-file.ts";
import { hlogText } from "./hlog.ts";

function result(
  target: string,
  repeat: number,
  startedAtMs: number,
  durationMs: number,
  samples: number,
): ScenarioResult {
  const h = newHistogram();
  for (let i = 1; i <= samples; i++) h.recordValue(i * 100);
  return {
    state: "complete",
    scenario: burstScenario(),
    target,
    repeat,
    startedAtMs,
    warnings: [],
    phases: [
      { phase: "start", start_ms: 0, duration_ms: durationMs / 2 },
      { phase: "collect", start_ms: durationMs / 2, duration_ms: durationMs / 2 },
    ],
    metrics: [],
    histograms: { latency: encodeHistogram(h) },
    timeseries: [],
    flags: { driverBound: false, driverBoundPhases: [], barrierApproximate: false },
    errorReasons: {},
  } as ScenarioResult;
}

test("intervals carry their real start times and lengths; tags and counts survive", () => {
  const t0 = 1_795_850_000_000;
  const text = hlogText(
    [result("reference", 0, t0 + 250, 1_500, 10), result("nchan", 0, t0 + 5_250, 2_000, 20)],
    t0,
  );
  const reader = new HistogramLogReader(text);
  const read = [];
  for (let h = reader.nextIntervalHistogram(); h !== null; h = reader.nextIntervalHistogram()) {
    read.push({ tag: h.tag, count: h.totalCount, start: h.startTimeStampMsec, end: h.endTimeStampMsec });
  }
  assert.deepEqual(read, [
    { tag: "latency.reference.r0", count: 10, start: t0 + 250, end: t0 + 1_750 },
    { tag: "latency.nchan.r0", count: 20, start: t0 + 5_250, end: t0 + 7_250 },
  ]);
});
