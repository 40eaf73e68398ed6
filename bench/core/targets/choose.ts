// From a target selection to the targets a session runs against. Every kind is a TargetChoice the
// rest of the harness cannot tell apart: a built-in name (reference, node-http, tornado, nchan;
// missing software skipped with a hint), another checkout's reference server (reference@DIR), a
// target file (a user's command or URL with its profile), or --target URL with --profile. A
// non-loopback address needs --allow-remote; the refusal names the flag.

import { existsSync } from "node:fs";
import { join } from "node:path";
import { TargetError, UsageError } from "../../errors.ts";
import { isLoopback, type TargetSelection } from "../choices.ts";
import type { Progress } from "../progress.ts";
import { socketsNeeded } from "../scenario.ts";
import type { TargetChoice } from "../session.ts";
import { attachTarget } from "./attach.ts";
import { seedProfile } from "./builtin-profiles.ts";
import { startFromFile } from "./command.ts";
import { LOCAL_TARGETS, localTarget } from "./local-targets.ts";
import { loadProfile } from "./profile.ts";
import { spawnReference } from "./reference.ts";
import { profileSupports } from "./supports.ts";
import { isTargetFile, loadTargetFile } from "./target-file.ts";

/** Refuse a non-loopback URL unless remote targets were allowed. */
export function checkReachable(url: string, allowRemote: boolean, where: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`${where}: "${url}" is not a URL like http://127.0.0.1:8888`);
  }
  if (parsed.protocol !== "http:") throw new UsageError(`${where}: "${url}" must be an http:// URL`);
  if (!allowRemote && !isLoopback(parsed.hostname)) {
    throw new UsageError(
      `${where}: ${parsed.hostname} is not a loopback address; to measure a server on another host, add --allow-remote (its CPU and memory are then unavailable unless its stats page has them)`,
    );
  }
}

/**
 * --transports: every target once per transport, named TARGET/TRANSPORT, each a cell of the tables
 * and the report (a threshold scoped @reference/sse judges that cell). Without the flag, the targets
 * as they are, over their scenarios' transport.
 */
export function chooseTargets(selection: Readonly<TargetSelection>, progress: Progress): TargetChoice[] {
  const targets = chooseEachTarget(selection, progress);
  const transports = selection.transports;
  if (transports === undefined) return targets;
  return targets.flatMap((t) =>
    transports.map((transport) => ({ ...t, name: `${t.name}/${transport}`, transport })),
  );
}

function chooseEachTarget(selection: Readonly<TargetSelection>, progress: Progress): TargetChoice[] {
  if (selection.target !== undefined) {
    const url = selection.target;
    checkReachable(url, selection.allowRemote, "--target");
    const profile = selection.profile === undefined ? seedProfile : loadProfile(selection.profile);
    return [
      {
        name: url,
        profile,
        supports: profileSupports(profile),
        spawned: false,
        start: () => attachTarget(url, profile, url, { proc: !selection.noProc }),
      },
    ];
  }
  const chosen: TargetChoice[] = [];
  for (const name of selection.targets) {
    if (name.startsWith("reference@")) {
      chosen.push(otherCheckout(name, selection.referenceArgs));
      continue;
    }
    if (isTargetFile(name)) {
      const file = loadTargetFile(name);
      if (file.command === undefined) checkReachable(file.url as string, selection.allowRemote, file.file);
      chosen.push({
        name: file.name,
        profile: file.resolvedProfile,
        supports: profileSupports(file.resolvedProfile),
        spawned: file.command !== undefined,
        thresholds: file.parsedThresholds,
        start: (_scenario, place) => startFromFile(file, place, { proc: !selection.noProc }),
      });
      continue;
    }
    const local = localTarget(name);
    if (!local) {
      throw new UsageError(
        `--targets: unknown target "${name}"; known: ${LOCAL_TARGETS.map((t) => t.name).join(", ")}, reference@DIR, or a target file (path ending in .json)`,
      );
    }
    const missing = local.missing();
    if (missing !== undefined) {
      progress.line(`skipping target ${name}: ${missing}`);
      continue;
    }
    chosen.push({
      name,
      profile: local.profile,
      supports: profileSupports(local.profile),
      spawned: true,
      processes: local.processes,
      start: (scenario) =>
        local.start({ waiters: socketsNeeded(scenario), referenceArgs: selection.referenceArgs }),
    });
  }
  const names = chosen.map((t) => t.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined)
    throw new UsageError(`--targets: two targets are named "${twice}"; names must differ`);
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
    profile: seedProfile,
    supports: profileSupports(seedProfile),
    spawned: true,
    start: (scenario) =>
      spawnReference({ waiters: socketsNeeded(scenario), extraArgs: referenceArgs, main, name }),
  };
}
