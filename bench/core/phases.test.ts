import assert from "node:assert/strict";
import { test } from "node:test";
import { PhaseRecorder } from "./phases.ts";

test("phases are timed on the injected clock, in order", () => {
  let now = 1000;
  const seen: string[] = [];
  const phases = new PhaseRecorder(
    () => now,
    (p) => seen.push(p),
  );
  phases.begin("preflight");
  now += 5;
  phases.begin("start");
  now += 300;
  phases.begin("connect");
  assert.equal(phases.current, "connect");
  now += 1000;
  phases.end();
  assert.equal(phases.current, undefined);
  assert.deepEqual(phases.timings(), [
    { phase: "preflight", start_ms: 0, duration_ms: 5 },
    { phase: "start", start_ms: 5, duration_ms: 300 },
    { phase: "connect", start_ms: 305, duration_ms: 1000 },
  ]);
  assert.deepEqual(seen, ["preflight", "start", "connect"]);
  assert.equal(phases.duration("start"), 300);
  assert.equal(phases.elapsed(), 1305);
});

test("a phase cannot go back or repeat", () => {
  const phases = new PhaseRecorder(() => 0);
  phases.begin("connect");
  assert.throws(() => phases.begin("start"), /cannot follow/);
  assert.throws(() => phases.begin("connect"), /cannot follow/);
  phases.begin("fire"); // skipping phases (a scenario without sets skips fire/collect) is fine
});
