// `npm run bench`: argv → scenarios → runs → results folder → summary table → exit code.
// The only module that prints the summary and calls process.exit.

import { join, relative } from "node:path";
import { BENCH_USAGE, parseBenchArgs } from "./cli-args.ts";
import { defaultWorkerCount } from "./driver/fleet.ts";
import { BenchError, InterruptedError, UsageError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";
import { summaryTable } from "./output/console.ts";
import { createProgress } from "./output/progress.ts";
import {
  createRunFolder,
  environment,
  newRunId,
  RESULTS_ROOT,
  type RunRecord,
  runRecord,
  writeRunFolder,
} from "./output/results-folder.ts";
import { preflight, readHostLimits } from "./preflight.ts";
import { runScenario, type ScenarioResult } from "./run.ts";
import {
  DEFAULT_SUITE,
  listScenarioFiles,
  listSuites,
  loadScenarios,
  type Scenario,
  suiteFiles,
} from "./scenario.ts";
import { attachTarget } from "./targets/attach.ts";
import { spawnReference } from "./targets/reference.ts";
import { seedAdapter } from "./targets/seed.ts";

function listing(): string {
  const lines = ["scenarios:"];
  for (const file of listScenarioFiles()) {
    const [s] = loadScenarios([file]) as [Scenario];
    lines.push(`  ${relative(process.cwd(), file).padEnd(36)} ${s.description}`);
  }
  lines.push("suites:");
  for (const suite of listSuites()) lines.push(`  ${suite}`);
  return lines.join("\n");
}

async function main(argv: string[]): Promise<number> {
  const options = parseBenchArgs(argv);
  if (options.help) {
    process.stdout.write(`${BENCH_USAGE}\n`);
    return ExitCode.ok;
  }
  if (options.list) {
    process.stdout.write(`${listing()}\n`);
    return ExitCode.ok;
  }
  const files = options.files.length > 0 ? options.files : suiteFiles(options.suite ?? DEFAULT_SUITE);
  const scenarios = loadScenarios(files);
  const hostLimits = readHostLimits();
  const spawned = options.target === undefined;
  // Every scenario's host limits are checked before anything runs.
  const warnings = scenarios.flatMap((scenario) =>
    preflight({
      scenario,
      workers: options.workers ?? defaultWorkerCount(scenario.waiters),
      spawnedTarget: spawned,
      limits: hostLimits,
    }),
  );

  const runId = newRunId();
  const dir = createRunFolder(options.out ?? join(RESULTS_ROOT, runId));
  const progress = createProgress(process.stderr, options.quiet);
  for (const w of warnings) progress.line(`warning: ${w}`);

  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(ExitCode.interrupted); // a second Ctrl-C: leave now
    progress.line(`${signal}: stopping; the results so far are being written`);
    controller.abort(new InterruptedError(signal));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const startedAtMs = Date.now();
  const base: Omit<RunRecord, "results"> = {
    tool: "longpoll-bench",
    run_id: runId,
    started_at: new Date(startedAtMs).toISOString(),
    finished_at: undefined,
    complete: false,
    exit_code: undefined,
    command: argv,
    environment: environment(hostLimits),
    targets: [options.target ?? "reference"],
    repeat: options.repeat,
    scenarios,
  };
  const results: ScenarioResult[] = [];
  const runTag = runId.slice(-4);
  let exitCode: number = ExitCode.ok;
  outer: for (let repeat = 0; repeat < options.repeat; repeat++) {
    for (const scenario of scenarios) {
      const result = await runScenario(scenario, {
        startTarget: (s) =>
          options.target !== undefined
            ? attachTarget(options.target, seedAdapter)
            : spawnReference({ waiters: s.waiters }),
        spawnedTarget: spawned,
        workers: options.workers,
        signal: controller.signal,
        progress,
        runTag,
        repeat,
        hostLimits,
      });
      results.push(result);
      writeRunFolder(dir, runRecord(base, results), results, startedAtMs);
      if (result.error) {
        progress.line(`${scenario.name}: ${result.error.message}`);
        exitCode = result.error.exitCode;
        break outer;
      }
    }
  }
  progress.done();
  const complete = exitCode === ExitCode.ok && results.every((r) => r.complete);
  writeRunFolder(
    dir,
    runRecord({ ...base, finished_at: new Date().toISOString(), complete, exit_code: exitCode }, results),
    results,
    startedAtMs,
  );
  if (results.length > 0) process.stdout.write(`${summaryTable(results)}\n`);
  const flagged = results.filter((r) => r.flags.driverBound).map((r) => r.scenario.name);
  if (flagged.length) {
    process.stdout.write(
      `driver-bound (the driver, not the server, may have set these figures): ${flagged.join(", ")}\n`,
    );
  }
  for (const r of results) for (const w of r.warnings) process.stdout.write(`warning: ${w}\n`);
  process.stdout.write(`results: ${displayPath(dir)}${complete ? "" : " (incomplete)"}\n`);
  return exitCode;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof BenchError) {
    process.stderr.write(`longpoll-bench: ${error.message}\n`);
    if (error instanceof UsageError) process.stderr.write("see: npm run bench -- --help\n");
    process.exitCode = error.exitCode;
  } else {
    process.stderr.write(`longpoll-bench: internal error: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = ExitCode.internal;
  }
}

function displayPath(dir: string): string {
  const rel = relative(process.cwd(), dir);
  return rel === "" || rel.startsWith("..") ? dir : rel;
}
