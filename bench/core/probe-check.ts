// One item of the probe's checklist (probe.ts, probe-push.ts; printed by output/checklist.ts).

export interface Check {
  item: string;
  /** A run cannot work without it (the probe exits 3 when one fails). */
  required: boolean;
  status: "pass" | "fail" | "skip";
  detail: string;
}
