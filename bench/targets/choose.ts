// From a target selection (--target URL, --targets names) to the targets a session runs against:
// an attached URL, the named local targets (missing ones skipped with a hint), or another checkout's
// reference server (reference@DIR). Every unknown name is a usage error naming the known ones.

import { existsSync } from "node:fs";
import { join } from "node:path";
import type { TargetSelection } from "../cli/args.ts";
import { TargetError, UsageError } from "../errors.ts";
import type { Progress } from "../output/progress.ts";
import { socketsNeeded } from "../scenario.ts";
import type { TargetChoice } from "../session.ts";
import { attachTarget } from "./attach.ts";
import { LOCAL_TARGETS, localTarget } from "./local-targets.ts";
import { spawnReference } from "./reference.ts";
import { seedAdapter } from "./seed.ts";

export function chooseTargets(selection: Readonly<TargetSelection>, progress: Progress): TargetChoice[] {
  if (selection.target !== undefined) {
    const url = selection.target;
    return [{ name: url, spawned: false, start: () => attachTarget(url, seedAdapter) }];
  }
  const chosen: TargetChoice[] = [];
  for (const name of selection.targets) {
    if (name.startsWith("reference@")) {
      chosen.push(otherCheckout(name, selection.referenceArgs));
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
        local.start({ waiters: socketsNeeded(scenario), referenceArgs: selection.referenceArgs }),
    });
  }
  if (chosen.length === 0)
    throw new TargetError(`none of the targets ${selection.targets.join(", ")} can run here`);
  return chosen;
}

/**
 * `reference@DIR`: the reference server of another checkout (DIR/server/main.ts), e.g. the commit
 * before a change, run side by side with this one in the same session.
 */
function otherCheckout(name: string, referenceArgs: string[]): TargetChoice {
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
      spawnReference({ waiters: socketsNeeded(scenario), extraArgs: referenceArgs, main, name }),
  };
}
