// Scenario files: the zod schema, the types the code takes from it, and loading with every problem
// reported at once (file and JSON path). Validated once here, at the edge; inside, values are trusted.
// Knows nothing of sockets or targets.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { z } from "zod";
import { ScenarioError } from "../errors.ts";
import { SCENARIO_TYPES, type ScenarioType } from "./scenario-types.ts";

const positiveInt = z.number().int().positive();

export const ArrivalSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("all-at-once") }).strict(),
  z.object({ type: z.literal("uniform"), window_ms: z.number().positive().max(600_000) }).strict(),
  z.object({ type: z.literal("rate"), per_second: z.number().positive().max(1_000_000) }).strict(),
]);
export type Arrival = z.infer<typeof ArrivalSchema>;

const DeadlinesSchema = z
  .object({
    /** From the first arrival until the target holds every waiter. */
    ready_ms: positiveInt.default(30_000),
    /** From the first set until every notification arrived. */
    collect_ms: positiveInt.default(15_000),
  })
  .strict();

const name = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "lower-case letters, digits and dashes");
const description = z.string().min(1);
const deadlines = DeadlinesSchema.default({ ready_ms: 30_000, collect_ms: 15_000 });

const keysAtMostWaiters = (s: { keys: number; waiters: number }, ctx: z.RefinementCtx) => {
  if (s.keys > s.waiters) {
    ctx.addIssue({ code: "custom", path: ["keys"], message: `must be at most waiters (${s.waiters})` });
  }
};

/**
 * burst: W waiters over K keys arrive on a schedule and park; then `sets.count` sets (one per key,
 * the first `count` keys) go out spread over `sets.window_ms`. Count 0 measures connecting alone.
 */
export const BurstScenarioSchema = z
  .object({
    name,
    description,
    type: z.literal("burst"),
    waiters: positiveInt.max(200_000),
    keys: positiveInt.default(1),
    arrival: ArrivalSchema,
    sets: z.object({ count: z.number().int().min(0), window_ms: z.number().min(0).default(0) }).strict(),
    /** The timeout each waiting /get asks for; long enough that none times out during the run. */
    wait_timeout_s: z.number().positive().default(120),
    deadlines,
  })
  .strict()
  .superRefine((s, ctx) => {
    keysAtMostWaiters(s, ctx);
    if (s.sets.count > s.keys) {
      ctx.addIssue({
        code: "custom",
        path: ["sets", "count"],
        message: `must be at most keys (${s.keys}): each set goes to its own key`,
      });
    }
  });

/**
 * stream: W waiters over K keys re-poll after every answer (with the `since` cursor where the target
 * has one; else a fresh key per message) while the setter publishes at `rate_per_s` for `duration_s`,
 * round-robin over the keys. Every waiter must see every message of its key, once and in order.
 */
export const StreamScenarioSchema = z
  .object({
    name,
    description,
    type: z.literal("stream"),
    waiters: positiveInt.max(200_000),
    keys: positiveInt,
    arrival: ArrivalSchema,
    rate_per_s: z.number().positive().max(100_000),
    duration_s: z.number().positive().max(3600),
    wait_timeout_s: z.number().positive().default(60),
    deadlines,
  })
  .strict()
  .superRefine(keysAtMostWaiters);

/** timeout-storm: W waiters ask for the same short timeout and no set comes: every one must time out once, on time. */
export const TimeoutStormScenarioSchema = z
  .object({
    name,
    description,
    type: z.literal("timeout-storm"),
    waiters: positiveInt.max(200_000),
    keys: positiveInt.default(1),
    arrival: ArrivalSchema,
    timeout_s: z.number().positive().max(600),
    deadlines,
  })
  .strict()
  .superRefine(keysAtMostWaiters);

/**
 * churn: W waiters park; then for `duration_s`, `churn_per_s` of them per second abort their request
 * and open a new one; then all stop. The target must come back to 0 parked and its heap (after GC,
 * where the target exposes it) to within `heap_tolerance_bytes` of where it started.
 */
export const ChurnScenarioSchema = z
  .object({
    name,
    description,
    type: z.literal("churn"),
    waiters: positiveInt.max(200_000),
    keys: positiveInt.default(1),
    arrival: ArrivalSchema,
    churn_per_s: z.number().positive().max(100_000),
    duration_s: z.number().positive().max(3600),
    heap_tolerance_bytes: positiveInt.default(4 * 1024 * 1024),
    wait_timeout_s: z.number().positive().default(300),
    deadlines,
  })
  .strict()
  .superRefine(keysAtMostWaiters);

/** set-throughput: autocannon drives /set (then /get of a present value) with no waiters: the plain request rate. */
export const SetThroughputScenarioSchema = z
  .object({
    name,
    description,
    type: z.literal("set-throughput"),
    connections: positiveInt.max(1000).default(50),
    duration_s: z.number().positive().max(600).default(5),
    value_bytes: positiveInt.max(65_536).default(64),
    /** Also measure /get of a present value (answered at once). */
    get: z.boolean().default(true),
  })
  .strict();

/** memory-sweep: parked waiters stepped up through `steps`; RSS and heap at each; bytes per waiter as the fitted slope. */
export const MemorySweepScenarioSchema = z
  .object({
    name,
    description,
    type: z.literal("memory-sweep"),
    steps: z.array(positiveInt.max(200_000)).min(2),
    keys: positiveInt.default(1),
    /** Each step's new waiters arrive uniformly within this window. */
    step_window_ms: z.number().positive().default(1000),
    wait_timeout_s: z.number().positive().default(600),
    deadlines,
  })
  .strict()
  .superRefine((s, ctx) => {
    for (let i = 1; i < s.steps.length; i++) {
      if ((s.steps[i] as number) <= (s.steps[i - 1] as number)) {
        ctx.addIssue({ code: "custom", path: ["steps", i], message: "steps must increase" });
      }
    }
  });

export const ScenarioSchema = z.discriminatedUnion("type", [
  BurstScenarioSchema,
  StreamScenarioSchema,
  TimeoutStormScenarioSchema,
  ChurnScenarioSchema,
  SetThroughputScenarioSchema,
  MemorySweepScenarioSchema,
]);
export type Scenario = z.infer<typeof ScenarioSchema>;
export type { ScenarioType };
export { SCENARIO_TYPES };

// The schema's types and the plain list (scenario-types.ts) are one set: a compile error otherwise.
type SameSet<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaTypesMatchTheList: SameSet<Scenario["type"], ScenarioType> = true;
void schemaTypesMatchTheList;
export type BurstScenario = z.infer<typeof BurstScenarioSchema>;
export type StreamScenario = z.infer<typeof StreamScenarioSchema>;
export type TimeoutStormScenario = z.infer<typeof TimeoutStormScenarioSchema>;
export type ChurnScenario = z.infer<typeof ChurnScenarioSchema>;
export type SetThroughputScenario = z.infer<typeof SetThroughputScenarioSchema>;
export type MemorySweepScenario = z.infer<typeof MemorySweepScenarioSchema>;

/** The most sockets a scenario holds open at once (for the host-limit preflight). */
export function socketsNeeded(s: Scenario): number {
  switch (s.type) {
    case "set-throughput":
      return s.connections;
    case "memory-sweep":
      return Math.max(...s.steps);
    default:
      return s.waiters;
  }
}

/** A suite is a named list of scenario files in scenarios/suites/<name>.json. */
const SuiteSchema = z.object({ description: z.string(), scenarios: z.array(z.string()).min(1) }).strict();

export const SCENARIO_DIR = new URL("../../scenarios/", import.meta.url).pathname;
export const DEFAULT_SUITE = "default";

function formatIssues(file: string, error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.length ? issue.path.join(".") : "(top level)";
    return `${file}: ${path}: ${issue.message}`;
  });
}

/**
 * A field set from the command line (`--set waiters=20000`, `--set arrival.window_ms=500`): a dotted
 * path and a value (JSON where it parses as JSON, else the text). It applies to every scenario of the
 * run and is validated with the file, so a field a scenario type does not have is an error.
 */
export interface FieldOverride {
  path: string[];
  value: unknown;
}

export function parseOverride(text: string): FieldOverride | undefined {
  const eq = text.indexOf("=");
  if (eq <= 0) return undefined;
  const path = text.slice(0, eq).split(".");
  if (path.some((p) => !/^[a-z_][a-z0-9_]*$/.test(p))) return undefined;
  const raw = text.slice(eq + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // a plain string
  }
  return { path, value };
}

function applyOverrides(data: unknown, overrides: readonly FieldOverride[]): unknown {
  if (overrides.length === 0 || data === null || typeof data !== "object") return data;
  const copy = structuredClone(data) as Record<string, unknown>;
  for (const { path, value } of overrides) {
    let node = copy;
    for (const key of path.slice(0, -1)) {
      if (node[key] === null || typeof node[key] !== "object") node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[path[path.length - 1] as string] = value;
  }
  return copy;
}

/** Parse one scenario from text; returns the scenario or the problems, never throws. */
export function parseScenario(
  file: string,
  text: string,
  overrides: readonly FieldOverride[] = [],
): { scenario?: Scenario; problems: string[] } {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return { problems: [`${file}: not valid JSON: ${(error as Error).message}`] };
  }
  const result = ScenarioSchema.safeParse(applyOverrides(data, overrides));
  if (!result.success) return { problems: formatIssues(file, result.error) };
  return { scenario: Object.freeze(result.data), problems: [] };
}

/** Load scenario files; every problem in every file is collected, then thrown together. */
export function loadScenarios(files: string[], overrides: readonly FieldOverride[] = []): Scenario[] {
  const problems: string[] = [];
  const scenarios: Scenario[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      problems.push(
        `${file}: cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
      continue;
    }
    const { scenario, problems: found } = parseScenario(file, text, overrides);
    problems.push(...found);
    if (scenario) scenarios.push(scenario);
  }
  const seen = new Set<string>();
  for (const s of scenarios) {
    if (seen.has(s.name))
      problems.push(`scenario name "${s.name}" appears twice; names must be unique in a run`);
    seen.add(s.name);
  }
  if (problems.length) throw new ScenarioError(problems);
  return scenarios;
}

/** The scenario files of a suite, resolved relative to scenarios/. */
export function suiteFiles(name: string, dir = SCENARIO_DIR): string[] {
  const file = join(dir, "suites", `${name}.json`);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    const near = closest(name, listSuites(dir));
    throw new ScenarioError([
      `no suite "${name}"${near ? `; did you mean ${near}?` : ""}: known suites are ${listSuites(dir).join(", ") || "none"}`,
    ]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ScenarioError([`${file}: not JSON: ${(error as Error).message}`]);
  }
  const result = SuiteSchema.safeParse(raw);
  if (!result.success) throw new ScenarioError(formatIssues(file, result.error));
  return result.data.scenarios.map((s) => join(dir, s));
}

/** A scenario named on the command line: a file path, or the name of one in scenarios/ ("fanout-1k"). */
export function resolveScenario(arg: string, dir = SCENARIO_DIR): string {
  if (arg.includes("/") || arg.endsWith(".json")) return arg;
  const file = join(dir, `${arg}.json`);
  if (existsSync(file)) return file;
  const names = listScenarioFiles(dir).map((f) => basename(f, ".json"));
  const near = closest(arg, names);
  throw new ScenarioError([
    `no scenario "${arg}" in scenarios/${near ? `; did you mean ${near}?` : ""} (see --list; or name a file)`,
  ]);
}

/** The closest of the candidates by edit distance, if it is close enough to be a typo. */
export function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        (prev[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = row;
  }
  return prev[b.length] as number;
}

/** A suite's description, for --list. */
export function suiteDescription(name: string, dir = SCENARIO_DIR): string {
  try {
    const raw = JSON.parse(readFileSync(join(dir, "suites", `${name}.json`), "utf8")) as {
      description?: unknown;
    };
    return typeof raw.description === "string" ? raw.description : "";
  } catch {
    return "";
  }
}

export function listSuites(dir = SCENARIO_DIR): string[] {
  return readdirSync(join(dir, "suites"))
    .filter((f) => f.endsWith(".json"))
    .map((f) => basename(f, ".json"))
    .sort();
}

export function listScenarioFiles(dir = SCENARIO_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => join(dir, f));
}
