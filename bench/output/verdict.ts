// The run's verdict, rendered: the thresholds judged at the end of a run (core/verdict/thresholds.ts)
// as console lines, summary.md (Markdown, for CI pages and pull requests) and junit.xml (one test
// case per threshold, so CI systems show pass and fail natively). Printing only.

import type { RunRecord } from "../core/run-record.ts";
import type { ThresholdVerdict } from "../core/verdict/thresholds.ts";

type Verdicts = readonly ThresholdVerdict[];

/** 1234567.8 → "1,234,567.8"; small values keep up to 3 decimals. */
export function formatNumber(value: number): string {
  const digits = Math.abs(value) >= 100 || Number.isInteger(value) ? 0 : Math.abs(value) >= 1 ? 1 : 3;
  return value.toLocaleString("en-US", { maximumFractionDigits: digits });
}

/** "1,234 (1,100–1,400 over 3 repeats)", "not measured". */
export function formatValue(v: ThresholdVerdict): string {
  if (v.value === undefined) return "not measured";
  const range =
    v.repeats > 1 && v.min !== v.max
      ? ` (${formatNumber(v.min as number)}–${formatNumber(v.max as number)} over ${v.repeats} repeats)`
      : "";
  return `${formatNumber(v.value)}${range}`;
}

const judgedOn = (v: ThresholdVerdict) =>
  v.repeats <= 1 ? "1 repeat" : v.source === "default" ? "worst repeat" : `median of ${v.repeats}`;

export function verdictCounts(verdicts: Verdicts): { passed: number; failed: number } {
  const failed = verdicts.filter((v) => !v.pass).length;
  return { passed: verdicts.length - failed, failed };
}

/** One line per failed threshold; the passes in one line. For the console and the top of summary.md. */
export function verdictLines(verdicts: Verdicts): string[] {
  if (verdicts.length === 0) return [];
  const { passed, failed } = verdictCounts(verdicts);
  const lines = [
    failed === 0
      ? `verdict: PASS: ${passed} of ${passed} threshold${passed === 1 ? "" : "s"} met`
      : `verdict: FAIL: ${failed} of ${verdicts.length} threshold${verdicts.length === 1 ? "" : "s"} failed`,
  ];
  for (const v of verdicts.filter((x) => !x.pass)) {
    lines.push(
      `  ✗ ${v.scenario} @${v.target}: ${v.metric} ${v.condition}: ${formatValue(v)}${v.value === undefined ? "" : `, ${judgedOn(v)}`} [${v.source}]`,
    );
  }
  return lines;
}

const mdCell = (text: string) => text.replaceAll("|", "\\|");

/** summary.md: the verdict, then every threshold as a table, then the run's facts. */
export function summaryMarkdown(record: RunRecord): string {
  const verdicts = record.thresholds ?? [];
  const { passed, failed } = verdictCounts(verdicts);
  const lines = [
    `# longpoll-bench run ${record.run_id}`,
    "",
    failed === 0
      ? `**PASS**: ${passed} of ${passed} threshold${passed === 1 ? "" : "s"} met (exit code ${record.exit_code}).`
      : `**FAIL**: ${failed} of ${verdicts.length} threshold${verdicts.length === 1 ? "" : "s"} failed (exit code ${record.exit_code}).`,
    "",
  ];
  if (verdicts.length > 0) {
    lines.push("| | scenario | target | metric | condition | value | judged on | from |");
    lines.push("|---|---|---|---|---|---|---|---|");
    for (const v of verdicts) {
      lines.push(
        `| ${v.pass ? "✓" : "✗"} | ${mdCell(v.scenario)} | ${mdCell(v.target)} | ${v.metric} | ${mdCell(v.condition)} | ${formatValue(v)} | ${v.value === undefined ? "" : judgedOn(v)} | ${v.source} |`,
      );
    }
    lines.push("");
  }
  const failedRuns = record.results.filter((r) => !r.complete);
  if (failedRuns.length > 0) {
    lines.push("Runs that failed:", "");
    for (const r of failedRuns)
      lines.push(
        `- ${mdCell(r.scenario)} @${mdCell(r.target)} #${r.repeat}: ${mdCell(r.error?.message ?? "")}`,
      );
    lines.push("");
  }
  lines.push(
    `Targets: ${record.targets.join(", ")}. Repeats: ${record.repeat}. Started ${record.started_at}, finished ${record.finished_at ?? "(not finished)"}.`,
    "",
  );
  return lines.join("\n");
}

const xml = (text: string) =>
  text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are not allowed in XML 1.0
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, "");

/** junit.xml: one test suite per scenario, one test case per threshold and target. */
export function junitXml(record: RunRecord): string {
  const verdicts = record.thresholds ?? [];
  const byScenario = new Map<string, ThresholdVerdict[]>();
  for (const v of verdicts) byScenario.set(v.scenario, [...(byScenario.get(v.scenario) ?? []), v]);
  const { failed } = verdictCounts(verdicts);
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="longpoll-bench ${xml(record.run_id)}" tests="${verdicts.length}" failures="${failed}">`,
  ];
  for (const [scenario, list] of byScenario) {
    const f = list.filter((v) => !v.pass).length;
    out.push(`  <testsuite name="${xml(scenario)}" tests="${list.length}" failures="${f}">`);
    for (const v of list) {
      const name = xml(`${v.target}: ${v.metric} ${v.condition}`);
      const classname = xml(`longpoll-bench.${scenario}`);
      if (v.pass) {
        out.push(`    <testcase name="${name}" classname="${classname}"/>`);
        continue;
      }
      const message = xml(`${v.metric} ${v.condition}: ${formatValue(v)} [${v.source}]`);
      out.push(`    <testcase name="${name}" classname="${classname}">`);
      out.push(`      <failure message="${message}" type="threshold">${message}</failure>`);
      out.push("    </testcase>");
    }
    out.push("  </testsuite>");
  }
  out.push("</testsuites>", "");
  return out.join("\n");
}
