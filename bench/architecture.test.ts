// The shape of the code, checked: the module graph of bench/ and server/ has no import cycle
// (type-only imports included: a cycle of types is still two modules that cannot be read apart), and
// bench/ is in layers whose imports go one way only (docs/design.md):
//
//   shared (errors, exit codes, child processes) and statistics/ (pure statistics)
//   ← core/      the run: scenarios, plans, sessions, runners, driver, targets, metrics, run records
//   ← analysis/  what reads run records: compare, the gate, the studies
//   ← output/    what renders: console, CSV, hlog, the report, the run folder
//   ← cli/       the commands: flags in, the layers below called, exit codes out
//
// A module may import from its own layer and those to its left. Tests and testing/ may import any.

import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";

const ROOT = resolve(new URL("..", import.meta.url).pathname);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith(".ts") && !path.endsWith(".d.ts") ? [path] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)[^;]*?from\s+"(\.{1,2}\/[^"]+)"/g)) {
    out.push(resolve(dirname(file), m[1] as string));
  }
  return out;
}

export function findCycle(graph: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (state.get(next) === "open") return [...stack.slice(stack.indexOf(next)), next];
      if (state.get(next) === undefined) {
        const cycle = visit(next);
        if (cycle) return cycle;
      }
    }
    stack.pop();
    state.set(node, "done");
    return undefined;
  };
  for (const node of graph.keys()) {
    if (state.get(node) === undefined) {
      const cycle = visit(node);
      if (cycle) return cycle;
    }
  }
  return undefined;
}

test("the cycle finder finds a cycle and passes a tree", () => {
  assert.deepEqual(
    findCycle(
      new Map([
        ["a", ["b"]],
        ["b", ["c"]],
        ["c", ["a"]],
      ]),
    ),
    ["a", "b", "c", "a"],
  );
  assert.equal(
    findCycle(
      new Map([
        ["a", ["b", "c"]],
        ["b", ["c"]],
        ["c", []],
      ]),
    ),
    undefined,
  );
});

test("no import cycle in bench/ or server/", () => {
  const files = [...sources(join(ROOT, "bench")), ...sources(join(ROOT, "server"))];
  const graph = new Map(files.map((f) => [f, imports(f)]));
  const cycle = findCycle(graph);
  assert.equal(cycle, undefined, `import cycle: ${cycle?.map((f) => relative(ROOT, f)).join(" → ")}`);
});

/** The layer of a module under bench/, by its folder; undefined for tests and test helpers. */
export function layerOf(path: string): Layer | undefined {
  const rel = relative(join(ROOT, "bench"), path);
  if (rel.endsWith(".test.ts") || rel.startsWith("testing/")) return undefined;
  const top = rel.includes("/") ? rel.slice(0, rel.indexOf("/")) : "";
  return top === "" || top === "statistics" ? "shared" : (top as Layer);
}

const LAYERS = ["shared", "core", "analysis", "output", "cli"] as const;
type Layer = (typeof LAYERS)[number];

/** Every import that goes against the layers: [from, to]. */
export function layerViolations(graph: Map<string, string[]>): [string, string][] {
  const out: [string, string][] = [];
  for (const [from, targets] of graph) {
    const a = layerOf(from);
    if (a === undefined) continue;
    for (const to of targets) {
      if (!to.startsWith(join(ROOT, "bench"))) continue;
      const b = layerOf(to);
      if (b === undefined || LAYERS.indexOf(b) > LAYERS.indexOf(a)) out.push([from, to]);
    }
  }
  return out;
}

test("bench/ is in layers: nothing imports from a layer to its right", () => {
  const graph = new Map(sources(join(ROOT, "bench")).map((f) => [f, imports(f)]));
  for (const f of graph.keys())
    assert.ok(LAYERS.includes(layerOf(f) ?? "shared"), `a module outside the layers: ${f}`);
  const wrong = layerViolations(graph).map(([a, b]) => `${relative(ROOT, a)} → ${relative(ROOT, b)}`);
  assert.deepEqual(wrong, []);
});

test("the layer check fails on a core module that imports a command or the output", () => {
  const core = join(ROOT, "bench/core/run.ts");
  const graph = new Map([
    [
      core,
      [
        join(ROOT, "bench/cli/args.ts"),
        join(ROOT, "bench/output/progress.ts"),
        join(ROOT, "bench/statistics/paired.ts"),
      ],
    ],
  ]);
  assert.deepEqual(
    layerViolations(graph).map(([, to]) => relative(ROOT, to)),
    ["bench/cli/args.ts", "bench/output/progress.ts"],
  );
});

test("bench/'s root holds at most 4 source files; every other module is in a layer's folder", () => {
  const root = readdirSync(join(ROOT, "bench")).filter((n) => /\.(ts|mjs|js)$/.test(n));
  assert.ok(root.length <= 4, `bench/ root: ${root.join(", ")}`);
});

/** Every file under dir (not node_modules, results or dot-folders) whose name ends with one of ends. */
function filesUnder(dir: string, ends: string[]): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (name.startsWith(".") || name === "node_modules" || name === "results") return [];
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return filesUnder(path, ends);
    return ends.some((e) => name.endsWith(e)) ? [path] : [];
  });
}

test("the documents' links and the documents code cites exist in the repository", () => {
  const missing: string[] = [];
  const exists = (path: string) => {
    try {
      statSync(path);
      return true;
    } catch {
      return false;
    }
  };
  // Relative links of the README, the changelog and docs/.
  for (const doc of [
    join(ROOT, "README.md"),
    join(ROOT, "CHANGELOG.md"),
    ...filesUnder(join(ROOT, "docs"), [".md"]),
  ]) {
    for (const m of readFileSync(doc, "utf8").matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
      const target = m[1] as string;
      if (/^[a-z]+:/.test(target)) continue; // https:, mailto:
      if (!exists(resolve(dirname(doc), target))) missing.push(`${relative(ROOT, doc)} → ${target}`);
    }
  }
  // Documents named in source files (comments, usage texts): docs/….md and README.md only.
  const code = [".ts", ".js", ".mjs", ".py", ".sh"];
  for (const dir of ["bench", "server", "bin", "scripts", "examples"]) {
    if (!exists(join(ROOT, dir))) continue;
    for (const file of filesUnder(join(ROOT, dir), code)) {
      for (const m of readFileSync(file, "utf8").matchAll(/\b(docs\/[\w./-]+\.(?:md|png))/g)) {
        if (!exists(join(ROOT, m[1] as string))) missing.push(`${relative(ROOT, file)} → ${m[1]}`);
      }
    }
  }
  assert.deepEqual(missing, [], "links and citations to documents that are not in the repository");
});
