// `npm run bench`: argv → scenarios → session → results folder → summary table → exit code.

import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { AgentPool } from "../core/agents/pool.ts";
import { defaultWorkerCount } from "../core/driver/fleet.ts";
import { METRICS } from "../core/metrics/catalog.ts";
import { preflight, readHostLimits } from "../core/preflight.ts";
import {
  DEFAULT_SUITE,
  listScenarioFiles,
  listSuites,
  loadScenarios,
  resolveScenario,
  type Scenario,
  socketsNeeded,
  suiteDescription,
  suiteFiles,
} from "../core/scenario.ts";
import { cannotRun, runSession, type SessionOutcome, targetProcesses } from "../core/session.ts";
import { chooseTargets } from "../core/targets/choose.ts";
import { LOCAL_TARGETS } from "../core/targets/local-targets.ts";
import { UsageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { closingText } from "../output/closing.ts";
import { createProgress } from "../output/progress.ts";
import { folderSink, openRunFolder } from "../output/results-folder.ts";
import { BENCH_USAGE, parseBenchArgs } from "./args.ts";
import { runCommand } from "./entry.ts";
import { interruptOnSignals } from "./signals.ts";

function listing(): string {
  const lines = ["scenarios:"];
  for (const file of listScenarioFiles()) {
    const [s] = loadScenarios([file]) as [Scenario];
    lines.push(`  ${basename(file, ".json").padEnd(20)} ${s.description}`);
  }
  lines.push("suites (--suite NAME):");
  for (const suite of listSuites()) lines.push(`  ${suite.padEnd(12)} ${suiteDescription(suite)}`);
  lines.push("targets (--targets):");
  const width = Math.max(...LOCAL_TARGETS.map((t) => t.name.length));
  for (const t of LOCAL_TARGETS) {
    const missing = t.missing();
    lines.push(`  ${t.name.padEnd(width)} ${t.description}${missing ? ` [not installed: ${missing}]` : ""}`);
  }
  return lines.join("\n");
}

/** --list-metrics: every metric a threshold, compare or the gate may name. */
function metricListing(): string {
  const rows = Object.entries(METRICS).map(([name, m]) => [name, m.unit, m.better, m.kind, m.help]);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  const line = (r: string[]) => r.map((c, i) => (i < 4 ? c.padEnd(widths[i] as number) : c)).join("  ");
  return [
    line(["metric", "unit", "better", "kind", "what it is"]),
    ...rows.map(line),
    "",
    "kind correctness: a threshold ==0 by default (docs/verdicts.md).",
  ].join("\n");
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

/** --json: what a script needs, on stdout (the tables are for people). */
function jsonSummary(outcome: SessionOutcome, dir: string) {
  const verdicts = outcome.record.thresholds ?? [];
  return {
    verdict: verdicts.every((v) => v.pass) ? "pass" : "fail",
    thresholds: verdicts,
    results_dir: dir,
    report: outcome.report ?? null,
    complete: outcome.complete,
    exit_code: outcome.exitCode,
    results: outcome.record.results.map((r) => ({
      scenario: r.scenario,
      target: r.target,
      repeat: r.repeat,
      complete: r.complete,
      ...(r.error ? { error: r.error.message } : {}),
      metrics: r.metrics,
      warnings: r.warnings,
    })),
  };
}

async function main(argv: string[]): Promise<number> {
  const options = parseBenchArgs(argv);
  if (options.help) {
    process.stdout.write(`${BENCH_USAGE}\n`);
    return ExitCode.ok;
  }
  if (options.version) {
    process.stdout.write(`longpoll-bench ${packageVersion()}\n`);
    return ExitCode.ok;
  }
  if (options.list) {
    process.stdout.write(`${listing()}\n`);
    return ExitCode.ok;
  }
  if (options.listMetrics) {
    process.stdout.write(`${metricListing()}\n`);
    return ExitCode.ok;
  }
  // From here a Ctrl-C ends the run as interrupted, however early: the session still writes run.json.
  const progress = createProgress(process.stderr, options.quiet);
  const signal = interruptOnSignals(progress);
  const suite = options.files.length > 0 ? undefined : (options.suite ?? DEFAULT_SUITE);
  const scenarios = loadScenarios(
    suite === undefined ? options.files.map((f) => resolveScenario(f)) : suiteFiles(suite),
    options.overrides,
  );
  const hostLimits = readHostLimits();
  const targets = chooseTargets(options, progress);
  // A threshold scoped to a scenario or target this run does not have would never be judged.
  for (const t of options.thresholds) {
    if (t.scenario !== undefined && !scenarios.some((s) => s.name === t.scenario))
      throw new UsageError(
        `--threshold names scenario "${t.scenario}", which this run does not have (it runs ${scenarios.map((s) => s.name).join(", ")})`,
      );
    if (t.target !== undefined && !targets.some((c) => c.name === t.target))
      throw new UsageError(
        `--threshold names target "${t.target}", which this run does not have (it runs ${targets.map((c) => c.name).join(", ")})`,
      );
  }
  // A run in which no target can run any scenario would measure nothing: refused, with every reason.
  const cannot = scenarios.flatMap((s) => targets.map((t) => [s, t, cannotRun(t, s)] as const));
  if (cannot.every(([, , why]) => why !== undefined))
    throw new UsageError(
      `nothing to run: ${cannot.map(([s, t, why]) => `${s.name} @${t.name}: ${why}`).join("; ")}`,
    );
  // Every scenario's host limits are checked before anything runs.
  const reports = scenarios.flatMap((scenario) =>
    targets.map((target) =>
      preflight({
        scenario,
        workers: options.workers ?? defaultWorkerCount(socketsNeeded(scenario)),
        driverHere: options.agents === undefined,
        targetProcesses: targetProcesses(target, socketsNeeded(scenario)),
        targetHost: target.host ?? "127.0.0.1",
        limits: hostLimits,
      }),
    ),
  );
  const warnings = [...new Set(reports.flatMap((r) => r.warnings))];
  const { runId, dir } = openRunFolder(options.out);
  for (const w of warnings) progress.line(`warning: ${w}`);
  for (const n of new Set(reports.flatMap((r) => r.notes))) progress.line(`preflight: ${n}`);
  // Load agents: too few is an error before any load is sent (exit 6).
  const agents = options.agents ? await AgentPool.connect(options.agents, options.minAgents) : undefined;
  if (agents) {
    const live = await agents.live();
    progress.line(
      `agents: ${live.map((a) => `${a.name} (${a.hostname}, ${a.cores} cores${a.sources.length ? `, sources ${a.sources.join(" ")}` : ""})`).join(", ")}`,
    );
  }
  const outcome = await runSession({
    scenarios,
    targets,
    repeat: options.repeat,
    workers: options.workers,
    sink: folderSink(dir, progress),
    dir,
    runId,
    command: argv,
    suite,
    progress,
    signal,
    hostLimits,
    cpus: options.cpus,
    driverSched: options.driverSched,
    agents,
    warmup: options.warmup,
    thresholds: options.thresholds,
  }).finally(() => agents?.close());
  progress.done();
  process.stdout.write(
    options.json
      ? `${JSON.stringify(jsonSummary(outcome, dir), null, 2)}\n`
      : closingText(outcome.results, dir, outcome.complete, {
          report: outcome.report,
          wide: options.wide,
          verdicts: outcome.record.thresholds ?? [],
        }),
  );
  return outcome.exitCode;
}

await runCommand("npm run bench", main);
