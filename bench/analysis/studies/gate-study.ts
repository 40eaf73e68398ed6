// The gate study's tables: how often the gate failed, per condition, and how long it took. On
// unchanged code (A/A, with or without a busy loop) every failure is a false alarm; with the fault
// injected into the head every failure is a detection. Pure; the CLI runs the gates.

import { median } from "../../statistics/bootstrap.ts";

export type Condition = "aa" | "aa-busy" | "fault";

export interface GateRunOutcome {
  condition: Condition;
  index: number;
  exitCode: number | null;
  seconds: number;
  rounds: number;
  /** Metrics per verdict in the run's gate.csv. */
  regressions: number;
  unresolved: number;
  /** "scenario metric ×ratio" of each regression, for the reader. */
  regressed: string[];
}

export interface ConditionSummary {
  condition: Condition;
  runs: number;
  /** Gate runs that exited 1 (a regression). */
  failed: number;
  /** Runs that passed with at least one metric unresolved. */
  passedUnresolved: number;
  /** Runs that ended in neither 0 nor 1 (a target failed, interrupted). */
  broken: number;
  medianSeconds: number;
  maxSeconds: number;
  medianRounds: number;
}

export function summarize(outcomes: readonly GateRunOutcome[]): ConditionSummary[] {
  const conditions = [...new Set(outcomes.map((o) => o.condition))];
  return conditions.map((condition) => {
    const runs = outcomes.filter((o) => o.condition === condition);
    return {
      condition,
      runs: runs.length,
      failed: runs.filter((o) => o.exitCode === 1).length,
      passedUnresolved: runs.filter((o) => o.exitCode === 0 && o.unresolved > 0).length,
      broken: runs.filter((o) => o.exitCode !== 0 && o.exitCode !== 1).length,
      medianSeconds: median(runs.map((o) => o.seconds)),
      maxSeconds: Math.max(...runs.map((o) => o.seconds)),
      medianRounds: median(runs.map((o) => o.rounds)),
    };
  });
}

const WHAT: Record<Condition, string> = {
  aa: "A/A (base = head's commit)",
  "aa-busy": "A/A, a busy loop holding a core",
  fault: "fault in the head",
};

/** The study's table as Markdown: what a failure means depends on the condition. */
export function studyMarkdown(summaries: readonly ConditionSummary[], faultUs: number): string {
  const rows = summaries.map((s) => {
    const meaning =
      s.condition === "fault" ? `detected ${s.failed} of ${s.runs}` : `false alarms ${s.failed} of ${s.runs}`;
    const what = s.condition === "fault" ? `${WHAT.fault} (${faultUs} µs per wake)` : WHAT[s.condition];
    return `| ${what} | ${s.runs} | ${meaning} | ${s.passedUnresolved} | ${s.broken} | ${Math.round(s.medianSeconds)} s (max ${Math.round(s.maxSeconds)}) | ${s.medianRounds} |`;
  });
  return [
    "| condition | gate runs | outcome | passed with a metric unresolved | broken runs | gate time, median | rounds, median |",
    "|---|---:|---|---:|---:|---:|---:|",
    ...rows,
  ].join("\n");
}
