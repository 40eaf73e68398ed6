import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { readRunRecord } from "./run-record.ts";

const result = (metrics: Record<string, number>) => ({
  scenario: "sweep",
  target: "reference",
  repeat: 0,
  complete: true,
  metrics,
});

test("an older run's falling memory fit is read as absent; any other negative figure is damage", () => {
  const dir = mkdtempSync(join(tmpdir(), "lpb-record-"));
  writeFileSync(
    join(dir, "run.json"),
    JSON.stringify({
      results: [
        result({
          waiters: 150,
          memory_slope_rss_bytes_per_waiter: -53_248,
          memory_fit_r2_rss: 0.794,
          memory_slope_heap_bytes_per_waiter: 3_285,
          memory_fit_r2_heap: 0.718,
        }),
      ],
    }),
  );
  assert.deepEqual(readRunRecord(dir).results[0]?.metrics, {
    waiters: 150,
    memory_slope_heap_bytes_per_waiter: 3_285,
    memory_fit_r2_heap: 0.718,
  });
  writeFileSync(join(dir, "run.json"), JSON.stringify({ results: [result({ waiters: -1 })] }));
  assert.throws(() => readRunRecord(dir), /results\.0\.metrics\.waiters/);
});
