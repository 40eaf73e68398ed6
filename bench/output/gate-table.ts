// The gate's verdicts as a console table, as gate.csv (one row per scenario and metric) and as
// gate.md (Markdown, for a pull request's job summary). Printing only.

import { stringify } from "csv-stringify/sync";
import type { BaseCheckout, Commit } from "../analysis/gate/base-checkout.ts";
import type { GateRow, Verdict } from "../analysis/gate/verdicts.ts";
import { formatTable } from "./console.ts";

const GATE_COLUMNS = [
  "scenario",
  "metric",
  "unit",
  "base_median",
  "head_median",
  "ratio",
  "ci_low",
  "ci_high",
  "limit",
  "verdict",
  "rounds",
] as const;

export const fmtRatio = (v: number | "") => (v === "" || !Number.isFinite(v) ? "-" : v.toFixed(3));

/** A median in its unit, with thousands separators and no more digits than it has meaning. */
export function fmtValue(v: number, unit: string): string {
  if (!Number.isFinite(v)) return "-";
  const digits = Math.abs(v) >= 100 || unit === "count" || unit === "bytes" ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  const text = v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const suffix = unit === "ms" ? " ms" : unit === "us" ? " µs" : unit === "bytes" ? " B" : "";
  return `${text}${suffix}`;
}

const interval = (r: GateRow) =>
  r.ci_low === "" ? "-" : `${fmtRatio(r.ci_low)}–${r.ci_high === Infinity ? "∞" : fmtRatio(r.ci_high)}`;

const VERDICT_TEXT: Record<Verdict, string> = {
  regression: "REGRESSION",
  improvement: "improvement",
  unchanged: "unchanged",
  unresolved: "UNRESOLVED",
  "no data": "no data",
};

export function gateTable(rows: readonly GateRow[]): string {
  return formatTable([
    ["scenario", "metric", "base", "head", "head÷base", "95% interval", "limit", "verdict", "rounds"],
    ...rows.map((r) => [
      r.scenario,
      r.metric,
      fmtValue(r.base_median, r.unit),
      fmtValue(r.head_median, r.unit),
      fmtRatio(r.ratio),
      interval(r),
      r.limit,
      VERDICT_TEXT[r.verdict],
      String(r.rounds),
    ]),
  ]);
}

export function gateCsv(rows: readonly GateRow[]): string {
  return stringify(
    rows.map((r) => ({ ...r, ci_high: r.ci_high === Infinity ? "" : r.ci_high })),
    { header: true, columns: [...GATE_COLUMNS] },
  );
}

export interface GateSummary {
  base: BaseCheckout;
  head: Commit & { dirty: boolean };
  /** Age of the base commit, in words. */
  baseAge: string;
  rounds: number;
  seconds: number;
  budgetS: number;
  strict: boolean;
  /** Exit code the gate returns. */
  exitCode: number;
  /** Why the rounds stopped: all decided, the budget, the most rounds. */
  stoppedBecause: string;
  /** The command that accepts an intended change (moves the base pointer). */
  acceptCommand: string;
}

/** Which edge an unresolved interval straddles: the limit (could be worse) or its inverse (better). */
function straddled(r: GateRow): string {
  const limit = Number(r.limit.slice(1));
  return r.ci_high !== "" && r.ci_high > limit ? r.limit : `×${fmtRatio(1 / limit)}`;
}

const count = (rows: readonly GateRow[], v: Verdict) => rows.filter((r) => r.verdict === v).length;

/** The gate's outcome in one line: PASSED / FAILED and why. */
export function gateOutcomeLine(rows: readonly GateRow[], s: GateSummary): string {
  const regressions = rows.filter((r) => r.verdict === "regression");
  const unresolved = rows.filter((r) => r.verdict === "unresolved");
  const tally = (["regression", "improvement", "unchanged", "unresolved", "no data"] as const)
    .map((v) => `${count(rows, v)} ${v}`)
    .join(", ");
  if (regressions.length > 0)
    return `GATE FAILED: ${regressions.length} regression(s): ${regressions.map((r) => `${r.scenario} ${r.metric} ×${fmtRatio(r.ratio)} (interval ${interval(r)}, limit ${r.limit})`).join("; ")} [${tally}]`;
  if (unresolved.length > 0 && s.strict)
    return `GATE FAILED (--strict): ${unresolved.length} metric(s) unresolved after ${s.rounds} rounds [${tally}]`;
  return `gate passed [${tally}]`;
}

/** The lines that frame the table: what was compared with what, how long, and how to accept a change. */
export function gateHeader(s: GateSummary): string[] {
  return [
    `base: ${s.base.sha.slice(0, 12)} "${s.base.subject}" (${s.base.date}, ${s.baseAge} old; dependencies ${s.base.dependencies})`,
    `head: ${s.head.sha.slice(0, 12)} "${s.head.subject}"${s.head.dirty ? " + uncommitted changes" : ""}`,
    `${s.rounds} paired rounds in ${Math.round(s.seconds)} s (budget ${s.budgetS} s): ${s.stoppedBecause}`,
  ];
}

export function gateFooter(rows: readonly GateRow[], s: GateSummary): string[] {
  const out: string[] = [];
  if (count(rows, "unresolved") > 0)
    out.push(
      `UNRESOLVED: ${rows
        .filter((r) => r.verdict === "unresolved")
        .map((r) => `${r.scenario} ${r.metric} (interval ${interval(r)} straddles ${straddled(r)})`)
        .join(
          "; ",
        )}. More rounds would tell (--budget-s); ${s.strict ? "--strict fails on it" : "it does not fail the gate without --strict"}.`,
    );
  if (count(rows, "regression") > 0 || count(rows, "improvement") > 0)
    out.push(
      `An intended change? Accept it by moving the base to this commit once it is committed: ${s.acceptCommand}, then commit results/baseline/base.json.`,
    );
  return out;
}

/** gate.md: the same, in Markdown (GitHub's job summary renders it). */
export function gateMarkdown(rows: readonly GateRow[], s: GateSummary): string {
  const cell = (t: string) => t.replace(/\|/g, "\\|");
  const mark: Record<Verdict, string> = {
    regression: "❌ regression",
    improvement: "✅ improvement",
    unchanged: "unchanged",
    unresolved: "⚠️ unresolved",
    "no data": "no data",
  };
  const lines = [
    `## longpoll-bench gate: ${gateOutcomeLine(rows, s).startsWith("gate passed") ? "passed" : "**failed**"}`,
    "",
    ...gateHeader(s).map((l) => `- ${cell(l)}`),
    "",
    "| scenario | metric | base | head | head ÷ base | 95% interval | limit | verdict | rounds |",
    "|---|---|---:|---:|---:|---:|---:|---|---:|",
    ...rows.map(
      (r) =>
        `| ${cell(r.scenario)} | ${cell(r.metric)} | ${fmtValue(r.base_median, r.unit)} | ${fmtValue(r.head_median, r.unit)} | ${fmtRatio(r.ratio)} | ${interval(r)} | ${r.limit} | ${mark[r.verdict]} | ${r.rounds} |`,
    ),
    "",
    cell(gateOutcomeLine(rows, s)),
    "",
    ...gateFooter(rows, s).map((l) => `${cell(l)}\n`),
  ];
  return `${lines.join("\n").trimEnd()}\n`;
}
