// `npm run bench`: argv → scenarios → session → results folder → summary table → exit code.

import { relative } from "node:path";
import { defaultWorkerCount } from "../driver/fleet.ts";
import { ExitCode } from "../exit-codes.ts";
import { closingText } from "../output/closing.ts";
import { createProgress } from "../output/progress.ts";
import { openRunFolder } from "../output/results-folder.ts";
import { preflight, readHostLimits } from "../preflight.ts";
import {
  DEFAULT_SUITE,
  listScenarioFiles,
  listSuites,
  loadScenarios,
  type Scenario,
  socketsNeeded,
  suiteFiles,
} from "../scenario.ts";
import { runSession } from "../session.ts";
import { chooseTargets } from "../targets/choose.ts";
import { LOCAL_TARGETS } from "../targets/local-targets.ts";
import { BENCH_USAGE, parseBenchArgs } from "./args.ts";
import { runCommand } from "./entry.ts";
import { interruptOnSignals } from "./signals.ts";

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
  process.stdout.write(closingText(outcome.results, dir, outcome.complete, outcome.report));
  return outcome.exitCode;
}

await runCommand("npm run bench", main);
