// The gate's settings, committed beside the base pointer in results/baseline/: thresholds.json (the
// suite, what is judged and each metric's limit, how many rounds and how long) and base.json (the
// commit the head is measured against). An unknown metric, a limit on the wrong kind of metric or a
// missing limit is an error (exit 2), never a silent pass.

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { isMetricName, METRICS } from "../../core/metrics/catalog.ts";
import { UsageError } from "../../errors.ts";

export const BASELINE_DIR = new URL("../../../results/baseline/", import.meta.url).pathname;

const MetricLimit = z
  .object({
    /**
     * A timing or memory figure: head ÷ base beyond `limit` is a regression, below 1/limit an
     * improvement; the interval decides (see verdicts.ts).
     */
    limit: z.number().gt(1).lt(10).optional(),
    /** A correctness count: the head's worst round may exceed the base's worst by this much (0: none). */
    max_increase: z.number().int().min(0).optional(),
  })
  .strict();

export const ThresholdsSchema = z
  .object({
    description: z.string().optional(),
    /** What is measured: "reference" (this project's server) or a target file, relative to the repository. */
    target: z.string().min(1).default("reference"),
    suite: z.string().default("ci"),
    /** Rounds before any verdict (a round: every scenario once on each side). */
    min_rounds: z.number().int().min(6).max(200).default(8),
    /** Rounds at most, whatever the budget. */
    max_rounds: z.number().int().min(6).max(200).default(60),
    /** Seconds of measuring after which no new round starts (--budget-s overrides). */
    budget_s: z.number().positive().max(86_400).default(270),
    confidence: z.number().gt(0.5).lt(1).default(0.95),
    /**
     * Waiters that warm each side's server up before every measured run (as bench --warmup): a
     * fresh Node process runs its first thousands of wakes unoptimised, with the compiler's own CPU
     * in the figures, which spreads them far more than any change the gate is after.
     */
    warmup: z.number().int().min(0).max(10_000).default(0),
    metrics: z.record(z.string(), MetricLimit),
  })
  .strict()
  .refine((t) => t.max_rounds >= t.min_rounds, { message: "max_rounds must be at least min_rounds" });

export type Thresholds = z.infer<typeof ThresholdsSchema>;

/** A settings file's JSON, or a usage error: `missing` when it is not there, else what is wrong. */
function readJson(file: string, missing: string): unknown {
  if (!existsSync(file)) throw new UsageError(missing);
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new UsageError(`${file}: not valid JSON (${(error as Error).message})`);
  }
}

/** Read and check the thresholds file; every problem at once. */
export function loadThresholds(file: string): Thresholds {
  const data = readJson(file, `no thresholds file at ${file}`);
  const parsed = ThresholdsSchema.safeParse(data);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((i) => `${file}: ${i.path.join(".") || "(top level)"}: ${i.message}`);
  if (parsed.success) {
    for (const [name, t] of Object.entries(parsed.data.metrics)) {
      if (!isMetricName(name)) {
        problems.push(`${file}: metrics.${name}: unknown metric; known: ${Object.keys(METRICS).join(", ")}`);
        continue;
      }
      const spec = METRICS[name];
      if (spec.better === "info") problems.push(`${file}: metrics.${name}: an info metric cannot be gated`);
      else if (spec.kind === "correctness") {
        if (t.max_increase === undefined || t.limit !== undefined)
          problems.push(
            `${file}: metrics.${name}: a correctness count takes "max_increase" (0: any increase fails), not "limit"`,
          );
      } else if (t.limit === undefined || t.max_increase !== undefined) {
        problems.push(`${file}: metrics.${name}: takes "limit", a ratio head ÷ base such as 1.1`);
      }
    }
  }
  if (problems.length) {
    throw new UsageError(`invalid thresholds file:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
  return (parsed as { data: Thresholds }).data;
}

const BasePointer = z
  .object({
    description: z.string().optional(),
    /** The commit the gate measures the head against, by default. */
    commit: z.string().regex(/^[0-9a-f]{40}$/, "a full 40-hex commit id"),
    /** When it was moved, and what it was then (for the reader; the commit decides). */
    updated_at: z.string().optional(),
    subject: z.string().optional(),
  })
  .strict();

export type BasePointer = z.infer<typeof BasePointer>;

export const basePointerFile = (dir: string) => join(dir, "base.json");

/** The commit results/baseline/base.json names, or a usage error that says how to make one. */
export function loadBasePointer(dir: string): BasePointer {
  const file = basePointerFile(dir);
  const data = readJson(
    file,
    `no ${file}: the gate needs a base commit; name one with --base REF, or record HEAD with: npm run baseline`,
  );
  const parsed = BasePointer.safeParse(data);
  if (!parsed.success)
    throw new UsageError(
      `${file}: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(top level)"}: ${i.message}`).join("; ")}`,
    );
  return parsed.data;
}

export function writeBasePointer(dir: string, pointer: BasePointer): void {
  writeFileSync(basePointerFile(dir), `${JSON.stringify(pointer, null, 2)}\n`);
}
