// The probe's checklist as text: one line per check, its verdict and what it saw. Printing only.

import type { Check } from "../core/probe-check.ts";

const MARK = { pass: "PASS", fail: "FAIL", skip: "skip" } as const;

export function checklistText(target: string, profile: string, checks: Check[]): string {
  const width = Math.max(...checks.map((c) => c.item.length));
  const lines = [`probe of ${target} with the ${profile} profile:`];
  for (const c of checks) {
    lines.push(
      `  ${MARK[c.status]}  ${c.item.padEnd(width)}  ${c.detail}${c.required ? "" : c.status === "fail" ? " (optional)" : ""}`,
    );
  }
  const failedRequired = checks.filter((c) => c.required && c.status === "fail");
  lines.push(
    failedRequired.length
      ? `the target fails ${failedRequired.length} required check(s): the harness cannot measure it with this profile`
      : "every required check passed: the harness can measure this target",
  );
  return `${lines.join("\n")}\n`;
}
