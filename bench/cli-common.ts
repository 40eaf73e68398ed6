// What the bench and the gate commands share: choosing targets from options, the Ctrl-C handler,
// the results folder, and the closing lines they print. Printing only; measuring is in run.ts.

import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import type { BenchOptions } from "./cli-args.ts";
import { InterruptedError, TargetError, UsageError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";
import { summaryTable } from "./output/console.ts";
import type { Progress } from "./output/progress.ts";
import { createRunFolder, newRunId, RESULTS_ROOT } from "./output/results-folder.ts";
import { headlineTable } from "./output/side-by-side.ts";
import type { ScenarioResult } from "./run.ts";
import { socketsNeeded } from "./scenario.ts";
import type { TargetChoice } from "./session.ts";
import { attachTarget } from "./targets/attach.ts";
import { LOCAL_TARGETS, localTarget } from "./targets/local-targets.ts";
import { spawnReference } from "./targets/reference.ts";
import { seedAdapter } from "./targets/seed.ts";

/** The targets of a run: one attached URL, or named local targets (missing ones skipped with a hint). */
export function chooseTargets(options: Readonly<BenchOptions>, progress: Progress): TargetChoice[] {
  if (options.target !== undefined) {
    const url = options.target;
    return [{ name: url, spawned: false, start: () => attachTarget(url, seedAdapter) }];
  }
  const chosen: TargetChoice[] = [];
  for (const name of options.targets) {
    if (name.startsWith("reference@")) {
      chosen.push(otherCheckout(name, options));
      continue;
    }
    const local = localTarget(name);
    if (!local) {
      throw new UsageError(
        `--targets: unknown target "${name}"; known: ${LOCAL_TARGETS.map((t) => t.name).join(", ")}`,
      );
    }
    const missing = local.missing();
    if (missing !== undefined) {
      progress.line(`skipping target ${name}: ${missing}`);
      continue;
    }
    chosen.push({
      name,
      supports: local.supports,
      spawned: true,
      start: (scenario) =>
        local.start({ waiters: socketsNeeded(scenario), referenceArgs: options.referenceArgs }),
    });
  }
  if (chosen.length === 0)
    throw new TargetError(`none of the targets ${options.targets.join(", ")} can run here`);
  return chosen;
}

/** Ctrl-C (or SIGTERM) aborts the run; the results so far are written. A second one leaves at once. */
export function interruptOnSignals(progress: Progress): AbortSignal {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(ExitCode.interrupted);
    progress.line(`${signal}: stopping; the results so far are being written`);
    controller.abort(new InterruptedError(signal));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return controller.signal;
}

export function openRunFolder(out: string | undefined): { runId: string; dir: string } {
  const runId = newRunId();
  return { runId, dir: createRunFolder(out ?? join(RESULTS_ROOT, runId)) };
}

export function displayPath(dir: string): string {
  const rel = relative(process.cwd(), dir);
  return rel === "" || rel.startsWith("..") ? dir : rel;
}

/** The summary table, flags and warnings, and where the results are. */
export function closingText(results: ScenarioResult[], dir: string, complete: boolean): string {
  const lines: string[] = [];
  if (results.length > 0) lines.push(summaryTable(results));
  const headline = headlineTable(results);
  if (headline) lines.push("", "side by side (all figures per target in peers.csv):", headline, "");
  const flagged = results
    .filter((r) => r.flags.driverBound)
    .map((r) => `${r.scenario.name}@${r.target}#${r.repeat} (${r.flags.driverBoundPhases.join(", ")})`);
  if (flagged.length) {
    lines.push(
      `driver-bound: a driver worker was busy over half of these phases, so their figures may be the driver's, not the server's: ${flagged.join("; ")}`,
    );
  }
  for (const r of results) for (const w of r.warnings) lines.push(`warning: ${w}`);
  lines.push(`results: ${displayPath(dir)}${complete ? "" : " (incomplete)"}`);
  return `${lines.join("\n")}\n`;
}

/**
 * `reference@DIR`: the reference server of another checkout (DIR/server/main.ts), e.g. the commit
 * before a change, run side by side with this one in the same session.
 */
function otherCheckout(name: string, options: Readonly<BenchOptions>): TargetChoice {
  const dir = name.slice("reference@".length);
  const main = join(dir, "server", "main.ts");
  if (!existsSync(main)) {
    throw new UsageError(
      `--targets ${name}: no ${main}; name a checkout of this project (with node_modules)`,
    );
  }
  return {
    name,
    spawned: true,
    start: (scenario) =>
      spawnReference({ waiters: socketsNeeded(scenario), extraArgs: options.referenceArgs, main, name }),
  };
}
