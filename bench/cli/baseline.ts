// `npm run baseline -- [--base REF]`: move the gate's base pointer (results/baseline/base.json)
// to a commit, HEAD by default. The gate measures that commit's server beside the head's, so no
// numbers are recorded: accepting an intended performance change is moving this pointer past it,
// and committing the file.

import { join } from "node:path";
import { headCommit, resolveCommit } from "../analysis/gate/base-checkout.ts";
import { BASELINE_DIR, basePointerFile, loadThresholds, writeBasePointer } from "../analysis/gate/config.ts";
import { UsageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { parseFlags } from "./args.ts";
import { runCommand } from "./entry.ts";

const USAGE = `usage: npm run baseline -- [--base REF] [--baseline DIR]

Points the gate (npm run gate) at a base commit: writes its id to base.json in the baseline
folder (default results/baseline). REF: a branch, tag, HEAD~1 or commit id (default HEAD). Commit
base.json afterwards; the gate then measures every later head against that commit's server.`;

function main(argv: string[]): number {
  const { values, positionals } = parseFlags(argv, {
    baseline: { type: "string" },
    base: { type: "string" },
    help: { type: "boolean" },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return ExitCode.ok;
  }
  if (positionals.length > 0)
    throw new UsageError(
      `baseline takes no run folders: the gate's baseline is a commit, not numbers (--base REF; default HEAD), got ${positionals.join(" ")}`,
    );
  const dir = (values.baseline as string | undefined) ?? BASELINE_DIR;
  loadThresholds(join(dir, "thresholds.json")); // a folder the gate can use, checked now
  const ref = (values.base as string | undefined) ?? "HEAD";
  const commit = resolveCommit(ref);
  if (ref === "HEAD" && headCommit().dirty)
    process.stderr.write(
      "warning: the work tree has uncommitted changes; the base is HEAD as committed, without them\n",
    );
  writeBasePointer(dir, {
    description:
      "The commit whose server the gate (npm run gate) measures beside the head's. Move it with npm run baseline.",
    commit: commit.sha,
    subject: commit.subject,
    updated_at: new Date().toISOString(),
  });
  process.stdout.write(
    `gate base → ${commit.sha.slice(0, 12)} "${commit.subject}" (${commit.date}); commit ${basePointerFile(dir)}\n`,
  );
  return ExitCode.ok;
}

await runCommand("npm run baseline", main);
