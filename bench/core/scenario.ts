// Scenario files: the zod schema, the types the code takes from it, and loading with every problem
// reported at once (file and JSON path). Validated once here, at the edge; inside, values are trusted.
// Knows nothing of sockets or targets.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { z } from "zod";
import { ScenarioError } from "../errors.ts";
import { closest } from "./did-you-mean.ts";
import { parseJsonText } from "./json-text.ts";
import { description as commonDescription, name as commonName } from "./scenarios/common.ts";
import type { ScenarioTypeModule } from "./scenarios/module.ts";
import { SCENARIO_TYPE_MODULES } from "./scenarios/registry.ts";
import { parseThresholdRecord } from "./verdict/thresholds.ts";

/** Every scenario type's module (scenarios/registry.ts): its schema, sockets, estimate, runner, tables. */
type Module = (typeof SCENARIO_TYPE_MODULES)[number];
/** A scenario file as the code takes it (defaults filled in): one of the registry's types. */
export type Scenario = Module extends ScenarioTypeModule<string, infer S, infer _M> ? S : never;
export type ScenarioType = Scenario["type"];
export type { BurstScenario } from "./scenarios/burst/schema.ts";
export type { ChurnScenario } from "./scenarios/churn/schema.ts";
export type { Arrival } from "./scenarios/common.ts";
export type { MemorySweepScenario } from "./scenarios/memory-sweep/schema.ts";
export type { SetThroughputScenario } from "./scenarios/set-throughput/schema.ts";
export type { StreamScenario } from "./scenarios/stream/schema.ts";
export type { TimeoutStormScenario } from "./scenarios/timeout-storm/schema.ts";

export const SCENARIO_TYPES: readonly ScenarioType[] = SCENARIO_TYPE_MODULES.map((m) => m.type);

/** A scenario file, by its type's own schema (zod's discriminated union over the registry). */
export const ScenarioSchema = z.discriminatedUnion(
  "type",
  SCENARIO_TYPE_MODULES.map((m) => m.schema) as unknown as Parameters<typeof z.discriminatedUnion>[1],
) as unknown as z.ZodType<Scenario>;

/** The module of a scenario's type. */
export function scenarioModule<S extends Scenario>(s: S): ScenarioTypeModule<S["type"], S> {
  return scenarioModuleOf(s.type) as unknown as ScenarioTypeModule<S["type"], S>;
}

/** The module of a scenario type, by its name. */
export function scenarioModuleOf(type: ScenarioType): ScenarioTypeModule<ScenarioType> {
  return SCENARIO_TYPE_MODULES.find((m) => m.type === type) as unknown as ScenarioTypeModule<ScenarioType>;
}

/** The most sockets a scenario holds open at once (for the host-limit preflight). */
export function socketsNeeded(s: Scenario): number {
  return scenarioModule(s).sockets(s);
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

/** The fields every type shares, checked on their own when the type is unknown. */
const CommonFields = z.looseObject({ name: commonName, description: commonDescription });

/**
 * A file whose type is missing or unknown: that, with the nearest type, and every mistake in the
 * fields all types share (the type-specific ones cannot be judged without a type).
 */
function unknownTypeProblems(file: string, input: unknown, type: unknown): string[] {
  const near = typeof type === "string" ? closest(type, [...SCENARIO_TYPES]) : undefined;
  const problems = [
    `${file}: type: ${type === undefined ? "missing" : `"${String(type)}" is not a scenario type`}${near ? `; did you mean "${near}"?` : ""}; the types: ${SCENARIO_TYPES.join(", ")}`,
  ];
  const common = CommonFields.safeParse(input);
  if (!common.success) problems.push(...formatIssues(file, common.error));
  return problems;
}

/** Parse one scenario from text; returns the scenario or the problems, never throws. */
export function parseScenario(
  file: string,
  text: string,
  overrides: readonly FieldOverride[] = [],
): { scenario?: Scenario; problems: string[] } {
  let data: unknown;
  try {
    data = parseJsonText(text);
  } catch (error) {
    return { problems: [`${file}: not valid JSON: ${(error as Error).message}`] };
  }
  const input = applyOverrides(data, overrides);
  const type = (input as { type?: unknown } | null)?.type;
  if (typeof type !== "string" || !SCENARIO_TYPES.includes(type as ScenarioType))
    return { problems: unknownTypeProblems(file, input, type) };
  const result = ScenarioSchema.safeParse(input);
  if (!result.success) return { problems: formatIssues(file, result.error) };
  const { problems } = parseThresholdRecord(result.data.thresholds, "scenario", `${file}: thresholds`);
  if (problems.length > 0) return { problems };
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
    raw = parseJsonText(text);
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
