// `npm run probe -- TARGET`: checks a target's protocol profile against the live server in a few
// seconds and prints a checklist. TARGET is whatever --targets takes (a built-in name such as nchan,
// or a target file), or --target URL [--profile P]. The harness starts the target if it is one it
// starts, and stops it after. Exit 0 when every required check passes, 3 when one fails, 2 for a bad
// profile or arguments.

import { probeTarget } from "../core/probe.ts";
import type { BurstScenario } from "../core/scenario.ts";
import { chooseTargets } from "../core/targets/choose.ts";
import { UsageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { checklistText } from "../output/checklist.ts";
import { createProgress } from "../output/progress.ts";
import { parseFlags } from "./args.ts";
import { runCommand } from "./entry.ts";

const USAGE = `usage: npm run probe -- TARGET                      a built-in target name or a target file
       npm run probe -- --target URL [--profile P]    a server already running (profile: seed, nchan or a file)

Checks, in a few seconds, that the harness can speak to the target as its profile says: a wait
parks, a publish wakes it with the right value (required); its stats page counts the parked wait,
a timeout is recognised, a cursor re-poll loses nothing (optional). --allow-remote for a target not
on loopback. Exit 0 all required checks pass, 3 one fails, 2 bad profile or arguments.`;

/** The probe needs a scenario only to size a spawned target; a tiny one does. */
const PROBE_SIZE: BurstScenario = {
  name: "probe",
  description: "probe",
  type: "burst",
  waiters: 4,
  keys: 1,
  arrival: { type: "all-at-once" },
  sets: { count: 1, window_ms: 0 },
  wait_timeout_s: 10,
  deadlines: { ready_ms: 5_000, collect_ms: 5_000 },
};

async function main(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseFlags(argv, {
    help: { type: "boolean" },
    target: { type: "string" },
    profile: { type: "string" },
    "allow-remote": { type: "boolean" },
  });
  if (v.help) {
    process.stdout.write(`${USAGE}\n`);
    return ExitCode.ok;
  }
  const target = v.target as string | undefined;
  if ((target === undefined) === (positionals.length !== 1)) {
    throw new UsageError("name one target (a built-in name or a target file), or give --target URL");
  }
  const [choice] = chooseTargets(
    {
      target,
      profile: v.profile as string | undefined,
      targets: positionals,
      referenceArgs: [],
      allowRemote: v["allow-remote"] === true,
    },
    createProgress(process.stderr, false),
  );
  if (!choice) throw new UsageError("no target to probe");
  const started = await choice.start(PROBE_SIZE, { runDir: undefined });
  try {
    const checks = await probeTarget(started);
    process.stdout.write(checklistText(choice.name, choice.profile.name, checks));
    return checks.some((c) => c.required && c.status === "fail") ? ExitCode.targetFailed : ExitCode.ok;
  } finally {
    await started.stop();
  }
}

await runCommand("npm run probe", main);
