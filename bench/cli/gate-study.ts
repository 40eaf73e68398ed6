// `npm run gate-study`: does the gate tell a regression from noise on this machine? Runs the gate
// (npm run gate -- --base HEAD) N times per condition, the conditions taken in turn so that
// drift hits each alike: A/A (unchanged code: every failure is a false alarm), A/A while a busy loop
// holds one core, and a fault injected into the head's server alone (--fault-wake-cost-us K: every
// failure is a detection). Prints and writes the table (study.md, study.csv) and keeps every gate
// run's folder.

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "csv-stringify/sync";
import { parseCsv } from "../analysis/run-folders.ts";
import {
  type Condition,
  type GateRunOutcome,
  studyMarkdown,
  summarize,
} from "../analysis/studies/gate-study.ts";
import { tsxNodeArgs } from "../child-process.ts";
import { UsageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { createRunFolder } from "../output/results-folder.ts";
import { parseFlags, positiveInt } from "./args.ts";
import { runCommand } from "./entry.ts";

const GATE = new URL("./gate.ts", import.meta.url).pathname;
const CONDITIONS: readonly Condition[] = ["aa", "aa-busy", "fault"];

const USAGE = `usage: npm run gate-study -- [--runs 10] [--fault-us 3] [--conditions aa,aa-busy,fault]
                               [--budget-s N] [--out DIR]

Runs the gate (gate --base HEAD) --runs times per condition, in turn: aa (unchanged code),
aa-busy (the same while a busy loop holds one core), fault (the head's server slowed by --fault-us
µs per wake). Prints false alarms, detections and the gate's time; writes DIR/study.md, study.csv.
The runs take as long as the gate does each (its budget; --budget-s passes one on).`;

/** A process that keeps one core busy until stopped, and stops itself after `maxS` in any case. */
function busyLoop(maxS: number): ChildProcess {
  return spawn(
    process.execPath,
    ["-e", `const end = Date.now() + ${Math.round(maxS * 1000)}; while (Date.now() < end) {}`],
    { stdio: "ignore" },
  );
}

function gateRun(condition: Condition, index: number, dir: string, faultUs: number, budget?: number) {
  const out = join(dir, `${condition}-${index}`);
  const args = [...tsxNodeArgs(), GATE, "--base", "HEAD", "--out", out, "--quiet"];
  if (budget !== undefined) args.push("--budget-s", String(budget));
  if (condition === "fault") args.push(`--reference-args=--fault-wake-cost-us ${faultUs}`);
  const busy = condition === "aa-busy" ? busyLoop(3600) : undefined;
  const started = Date.now();
  const r = spawnSync(process.execPath, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  busy?.kill();
  const seconds = (Date.now() - started) / 1000;
  writeFileSync(`${out}.log`, `${r.stdout ?? ""}\n${r.stderr ?? ""}`);
  return { out, seconds, exitCode: r.status };
}

/** Verdict counts and rounds from a gate run's gate.csv. */
function readOutcome(
  condition: Condition,
  index: number,
  run: { out: string; seconds: number; exitCode: number | null },
): GateRunOutcome {
  const csv = join(run.out, "gate.csv");
  const outcome: GateRunOutcome = {
    condition,
    index,
    exitCode: run.exitCode,
    seconds: run.seconds,
    rounds: 0,
    regressions: 0,
    unresolved: 0,
    regressed: [],
  };
  if (!existsSync(csv)) return outcome;
  for (const row of parseCsv(readFileSync(csv, "utf8"))) {
    outcome.rounds = Math.max(outcome.rounds, Number(row.rounds) || 0);
    if (row.verdict === "unresolved") outcome.unresolved++;
    if (row.verdict === "regression") {
      outcome.regressions++;
      const ratio = row.ratio ? ` ×${Number(row.ratio).toFixed(3)}` : "";
      outcome.regressed.push(`${row.scenario} ${row.metric}${ratio}`);
    }
  }
  return outcome;
}

function main(argv: string[]): number {
  const { values: v } = parseFlags(argv, {
    runs: { type: "string" },
    "fault-us": { type: "string" },
    conditions: { type: "string" },
    "budget-s": { type: "string" },
    out: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (v.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return ExitCode.ok;
  }
  const runs = positiveInt("runs", v.runs as string | undefined, 100) ?? 10;
  const faultUs = positiveInt("fault-us", v["fault-us"] as string | undefined, 10_000) ?? 3;
  const budget = positiveInt("budget-s", v["budget-s"] as string | undefined, 86_400);
  const conditions = ((v.conditions as string | undefined) ?? CONDITIONS.join(","))
    .split(",")
    .map((c) => c.trim())
    .filter(Boolean);
  for (const c of conditions)
    if (!CONDITIONS.includes(c as Condition))
      throw new UsageError(`--conditions: unknown "${c}"; known: ${CONDITIONS.join(", ")}`);
  const dir = (v.out as string | undefined) ?? join("results", `gate-study-${Date.now()}`);
  createRunFolder(dir); // a new folder, claimed: an earlier study is never overwritten
  const outcomes: GateRunOutcome[] = [];
  const write = () => {
    writeFileSync(
      join(dir, "study.csv"),
      stringify(
        outcomes.map((o) => ({ ...o, regressed: o.regressed.join("; ") })),
        { header: true },
      ),
    );
    const md = studyMarkdown(summarize(outcomes), faultUs);
    writeFileSync(join(dir, "study.md"), `${md}\n`);
    return md;
  };
  for (let i = 1; i <= runs; i++) {
    for (const condition of conditions as Condition[]) {
      process.stderr.write(`gate-study: ${condition} ${i} of ${runs}\n`);
      const run = gateRun(condition, i, dir, faultUs, budget);
      const o = readOutcome(condition, i, run);
      outcomes.push(o);
      process.stderr.write(
        `gate-study: ${condition} ${i}: exit ${o.exitCode}, ${Math.round(o.seconds)} s, ${o.rounds} rounds, ${o.regressions} regression(s)${o.regressed.length ? ` (${o.regressed.join("; ")})` : ""}, ${o.unresolved} unresolved\n`,
      );
      write(); // after every run: a study cut short keeps what it measured
    }
  }
  process.stdout.write(`${write()}\n\nstudy: ${dir}\n`);
  return ExitCode.ok;
}

await runCommand("npm run gate-study", main);
