// The gate's two sides as targets of one session: "base" (the base commit's server, from its
// worktree) and "head" (this checkout's). What runs is thresholds.json's "target": this project's
// reference server, or a target file (a user's own server), read from each side's own tree so that
// each side runs its own command and profile. --reference-args reach the head alone (fault
// injection, to prove the gate fails).

import { existsSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";
import { socketsNeeded } from "../../core/scenario.ts";
import type { TargetChoice } from "../../core/session.ts";
import { seedProfile } from "../../core/targets/builtin-profiles.ts";
import { startFromFile } from "../../core/targets/command.ts";
import { spawnReference } from "../../core/targets/reference.ts";
import { profileSupports } from "../../core/targets/supports.ts";
import { isTargetFile, loadTargetFile } from "../../core/targets/target-file.ts";
import { UsageError } from "../../errors.ts";
import { REPO_ROOT } from "./base-checkout.ts";
import { BASE, HEAD } from "./verdicts.ts";

function referenceSide(name: string, root: string, extraArgs: string[]): TargetChoice {
  const main = join(root, "server", "main.ts");
  return {
    name,
    profile: seedProfile,
    supports: profileSupports(seedProfile),
    spawned: true,
    start: (scenario) => spawnReference({ waiters: socketsNeeded(scenario), extraArgs, main, name }),
  };
}

function targetFileSide(name: string, file: string): TargetChoice {
  const loaded = loadTargetFile(file);
  if (loaded.command === undefined)
    throw new UsageError(
      `${file}: the gate starts each side's server itself; a target file for the gate needs a "command", not only a "url"`,
    );
  const t = { ...loaded, name };
  return {
    name,
    profile: t.resolvedProfile,
    supports: profileSupports(t.resolvedProfile),
    spawned: true,
    start: (_scenario, place) => startFromFile(t, place),
  };
}

/** [base, head] for a session. */
export function gateTargets(target: string, baseDir: string, referenceArgs: string[]): TargetChoice[] {
  if (target === "reference")
    return [referenceSide(BASE, baseDir, []), referenceSide(HEAD, REPO_ROOT, referenceArgs)];
  if (!isTargetFile(target))
    throw new UsageError(
      `thresholds.json "target": "${target}" is neither "reference" nor a target file (a path ending in .json, relative to the repository)`,
    );
  if (referenceArgs.length > 0)
    throw new UsageError(
      "--reference-args apply to the reference server; the gate's target here is a target file",
    );
  const inRepo = isAbsolute(target) ? relative(REPO_ROOT, target) : target;
  if (inRepo.startsWith(".."))
    throw new UsageError(
      `thresholds.json "target": ${target} is outside the repository; the gate runs the file of each commit, so it must be in it`,
    );
  const baseFile = join(baseDir, inRepo);
  if (!existsSync(baseFile))
    throw new UsageError(`the base commit has no ${inRepo}; name a --base that has it`);
  return [targetFileSide(BASE, baseFile), targetFileSide(HEAD, join(REPO_ROOT, inRepo))];
}
