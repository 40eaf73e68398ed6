import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ScenarioError } from "../errors.ts";
import {
  type BurstScenario,
  listScenarioFiles,
  loadScenarios,
  parseScenario,
  suiteFiles,
} from "./scenario.ts";

test("every shipped scenario and suite is valid", () => {
  const scenarios = loadScenarios(listScenarioFiles());
  assert.ok(scenarios.length >= 4);
  const defaults = loadScenarios(suiteFiles("default")).map((s) => s.name);
  assert.deepEqual(defaults, ["connect-burst-5k", "fanout-1k", "fanout-10k", "key-burst"]);
});

test("defaults are filled in", () => {
  const { scenario } = parseScenario(
    "x.json",
    JSON.stringify({
      name: "x",
      description: "d",
      type: "burst",
      waiters: 10,
      arrival: { type: "all-at-once" },
      sets: { count: 1 },
    }),
  );
  assert.equal(scenario?.type, "burst");
  const burst = scenario as BurstScenario;
  assert.equal(burst.keys, 1);
  assert.equal(burst.wait_timeout_s, 120);
  assert.equal(burst.deadlines.ready_ms, 30_000);
});

test("every problem in every file is reported at once, with its path", () => {
  const dir = mkdtempSync(join(tmpdir(), "lpb-scenario-"));
  const bad = join(dir, "bad.json");
  writeFileSync(
    bad,
    JSON.stringify({
      name: "Bad Name",
      description: "d",
      type: "burst",
      waiters: -1,
      keys: 5,
      arrival: { type: "uniform" },
      sets: { count: 9 },
      extra: true,
    }),
  );
  const broken = join(dir, "broken.json");
  writeFileSync(broken, "{ not json");
  const missing = join(dir, "missing.json");
  try {
    loadScenarios([bad, broken, missing]);
    assert.fail("expected a ScenarioError");
  } catch (error) {
    assert.ok(error instanceof ScenarioError);
    const text = error.problems.join("\n");
    for (const expected of [
      "name",
      "waiters",
      "arrival.window_ms",
      "(top level)",
      "broken.json: not valid JSON",
      "missing.json: cannot read",
    ]) {
      assert.ok(text.includes(expected), `mentions ${expected}:\n${text}`);
    }
    assert.equal(error.exitCode, 2);
  }
});

test("cross-field rules: keys ≤ waiters, sets ≤ keys", () => {
  const { problems } = parseScenario(
    "c.json",
    JSON.stringify({
      name: "c",
      description: "d",
      type: "burst",
      waiters: 10,
      keys: 20,
      arrival: { type: "all-at-once" },
      sets: { count: 30 },
    }),
  );
  assert.equal(problems.length, 2, problems.join("\n"));
  assert.match(problems.join("\n"), /c.json: keys: must be at most waiters/);
  assert.match(problems.join("\n"), /c.json: sets.count: must be at most keys/);
});

test("an unknown type is named with the nearest one, beside the other mistakes the file has", () => {
  const { scenario, problems } = parseScenario("u.json", JSON.stringify({ type: "strem", name: "Bad Name" }));
  assert.equal(scenario, undefined);
  assert.match(
    problems[0] ?? "",
    /^u\.json: type: "strem" is not a scenario type; did you mean "stream"\?; the types: burst, stream/,
  );
  assert.ok(
    problems.some((p) => /^u\.json: name: lower-case letters, digits and dashes$/.test(p)),
    problems.join("\n"),
  );
  assert.ok(
    problems.some((p) => /^u\.json: description: /.test(p)),
    problems.join("\n"),
  );
  assert.match(parseScenario("v.json", "{}").problems[0] ?? "", /^v\.json: type: missing; the types: /);
});
