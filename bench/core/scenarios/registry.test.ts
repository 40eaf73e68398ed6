// The scenario registry: every type has all its parts in its folder, and a new type is one folder
// plus one registry line. The second test adds a made-up type to a copy of the tree, exactly so,
// and runs it from the CLI: its schema validates the file, its runner runs, its metric reaches
// summary.csv and its column the console table.

import assert from "node:assert/strict";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { listenFakeTarget } from "../../testing/fake-targets.ts";
import { runCli } from "../../testing/run-cli.ts";
import { METRICS } from "../metrics/catalog.ts";
import { ScenarioSchema, scenarioModuleOf, socketsNeeded } from "../scenario.ts";
import { SCENARIO_TYPE_MODULES } from "./registry.ts";

const HERE = new URL(".", import.meta.url).pathname;
const ROOT = new URL("../../../", import.meta.url).pathname;

test("every registered type has its parts, in its own folder", async () => {
  const folders = readdirSync(HERE, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  assert.deepEqual(SCENARIO_TYPE_MODULES.map((m) => m.type).sort(), folders, "one folder per type");
  for (const m of SCENARIO_TYPE_MODULES) {
    assert.deepEqual(readdirSync(join(HERE, m.type)).sort(), ["index.ts", "runner.ts", "schema.ts"], m.type);
    assert.equal(typeof (await m.loadRunner()), "function", `${m.type}: its runner`);
    assert.ok(m.summary.length > 0 && m.columns.length > 0 && m.headlines.length > 0, m.type);
    for (const c of [...m.columns.map((c) => c.metric), ...m.headlines.map(([metric]) => metric)])
      assert.ok(Object.hasOwn(METRICS, c), `${m.type} shows ${c}, which the catalog does not know`);
    for (const name of Object.keys(m.metrics)) assert.ok(Object.hasOwn(METRICS, name), name);
    assert.equal(scenarioModuleOf(m.type), m);
  }
  // The schema, the sockets and the ETA come from the module.
  const file = JSON.parse(readFileSync(join(ROOT, "scenarios/memory-sweep.json"), "utf8"));
  const parsed = ScenarioSchema.parse(file);
  assert.equal(socketsNeeded(parsed), Math.max(...file.steps));
});

test("a made-up type: one folder and one registry line, and it runs from the CLI", async (t) => {
  const copy = mkdtempSync(join(tmpdir(), "lpb-registry-"));
  for (const part of ["bench", "server", "scenarios", "profiles", "package.json", "tsconfig.json"])
    cpSync(join(ROOT, part), join(copy, part), { recursive: true });
  symlinkSync(join(ROOT, "node_modules"), join(copy, "node_modules"));
  // The folder.
  const folder = join(copy, "bench/core/scenarios/made-up");
  mkdirSync(folder);
  writeFileSync(
    join(folder, "schema.ts"),
    `import { z } from "zod";
import { sharedFields } from "../common.ts";
export const MadeUpScenarioSchema = z.object({ ...sharedFields, type: z.literal("made-up"), echoes: z.number().int().positive() }).strict();
export type MadeUpScenario = z.infer<typeof MadeUpScenarioSchema>;
`,
  );
  writeFileSync(
    join(folder, "runner.ts"),
    `import type { RunnerApi, RunnerOutput } from "../../runners/api.ts";
import type { MadeUpScenario } from "./schema.ts";
export async function runMadeUp(api: RunnerApi<MadeUpScenario>): Promise<RunnerOutput> {
  api.phases.begin("fire");
  api.metric("made_up_echoes" as never, api.scenario.echoes);
  return {};
}
`,
  );
  writeFileSync(
    join(folder, "index.ts"),
    `import { info } from "../../metrics/spec.ts";
import { scenarioType } from "../module.ts";
import { MadeUpScenarioSchema } from "./schema.ts";
export const madeUp = scenarioType({
  type: "made-up",
  summary: "a type made up by a test",
  schema: MadeUpScenarioSchema,
  sockets: () => 1,
  expectedMs: () => 100,
  loadRunner: () => import("./runner.ts").then((m) => m.runMadeUp),
  metrics: { made_up_echoes: info("count", "echoes") },
  columns: [{ head: "echoes", metric: "made_up_echoes" }],
  headlines: [["made_up_echoes", "echoes", 0]],
});
`,
  );
  // The registry line.
  const registry = join(copy, "bench/core/scenarios/registry.ts");
  const text = readFileSync(registry, "utf8")
    .replace("import { memorySweep }", 'import { madeUp } from "./made-up/index.ts";\nimport { memorySweep }')
    .replace(/memorySweep,?\s*\] as const/, "memorySweep, madeUp] as const");
  assert.match(text, /madeUp\] as const/, "the registry line was added");
  writeFileSync(registry, text);

  const target = await listenFakeTarget();
  t.after(() => target.server.close());
  const scenario = join(copy, "made-up.json");
  writeFileSync(
    scenario,
    JSON.stringify({ name: "echo", description: "made up", type: "made-up", echoes: 7 }),
  );
  const out = join(copy, "run");
  // Not spawnSync: the fake target answers from this process's event loop.
  const r = await runCli(join(copy, "bench/cli/bench.ts"), [scenario, "--target", target.url, "--out", out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    readFileSync(join(out, "summary.csv"), "utf8"),
    /echo,http:\/\/127\.0\.0\.1:\d+,0,made_up_echoes,7,count/,
  );
  assert.match(r.stdout, /scenario \(made-up\)\s+echoes/);
});
