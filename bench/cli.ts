// `npm run bench`: argv → scenarios → session → results folder → summary table → exit code.

import { relative } from "node:path";
import { BENCH_USAGE, parseBenchArgs } from "./cli-args.ts";
import { chooseTargets, closingText, interruptOnSignals, openRunFolder } from "./cli-common.ts";
import { defaultWorkerCount } from "./driver/fleet.ts";
import { BenchError, UsageError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";
import { createProgress } from "./output/progress.ts";
import { preflight, readHostLimits } from "./preflight.ts";
import {
  DEFAULT_SUITE,
  listScenarioFiles,
  listSuites,
  loadScenarios,
  type Scenario,
  socketsNeeded,
  suiteFiles,
} from "./scenario.ts";
import { runSession } from "./session.ts";
import { LOCAL_TARGETS } from "./targets/local-targets.ts";

function listing(): string {
  const lines = ["scenarios:"];
  for (const file of listScenarioFiles()) {
    const [s] = loadScenarios([file]) as [Scenario];
    lines.push(`  ${relative(process.cwd(), file).padEnd(36)} ${s.description}`);
  }
  lines.push("suites:");
  for (const suite of listSuites()) lines.push(`  ${suite}`);
  lines.push("targets (--targets):");
  for (const t of LOCAL_TARGETS) {
    const missing = t.missing();
    lines.push(`  ${t.name.padEnd(12)} ${t.description}${missing ? ` [not installed: ${missing}]` : ""}`);
  }
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
  const suite = options.files.length > 0 ? undefined : (options.suite ?? DEFAULT_SUITE);
  const scenarios = loadScenarios(suite === undefined ? options.files : suiteFiles(suite));
  const hostLimits = readHostLimits();
  const progress = createProgress(process.stderr, options.quiet);
  const targets = chooseTargets(options, progress);
  // Every scenario's host limits are checked before anything runs.
  const warnings = scenarios.flatMap((scenario) =>
    preflight({
      scenario,
      workers: options.workers ?? defaultWorkerCount(socketsNeeded(scenario)),
      spawnedTarget: targets.some((t) => t.spawned),
      limits: hostLimits,
    }),
  );
  const { runId, dir } = openRunFolder(options.out);
  for (const w of warnings) progress.line(`warning: ${w}`);
  const outcome = await runSession({
    scenarios,
    targets,
    repeat: options.repeat,
    workers: options.workers,
    dir,
    runId,
    command: argv,
    suite,
    progress,
    signal: interruptOnSignals(progress),
    hostLimits,
  });
  progress.done();
  process.stdout.write(closingText(outcome.results, dir, outcome.complete));
  return outcome.exitCode;
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
