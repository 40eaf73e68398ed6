import assert from "node:assert/strict";
import { test } from "node:test";
import { Observations } from "./observations.ts";

test("a negative or non-finite figure is kept out of the metrics, with a warning that names it", () => {
  const seen = new Observations();
  seen.metric("delivered", 10);
  seen.metric("latency_p50_ms", -1);
  seen.metric("latency_p99_ms", Number.NaN);
  seen.metric("lost", 0);
  assert.deepEqual(
    seen.metrics.map((m) => [m.name, m.value]),
    [
      ["delivered", 10],
      ["lost", 0],
    ],
  );
  assert.deepEqual(
    seen.warnings.map((w) => w.split(":")[0]),
    ["latency_p50_ms not recorded", "latency_p99_ms not recorded"],
  );
});
