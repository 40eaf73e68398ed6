// The parts of a scenario file that every type shares (name, description, arrival, deadlines) and
// the rules they follow; each type's own schema (scenarios/<type>/schema.ts) is built from them.

import { z } from "zod";
import { TRANSPORTS } from "../targets/transports.ts";

export const positiveInt = z.number().int().positive();

export const ArrivalSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("all-at-once") }).strict(),
  z.object({ type: z.literal("uniform"), window_ms: z.number().positive().max(600_000) }).strict(),
  z.object({ type: z.literal("rate"), per_second: z.number().positive().max(1_000_000) }).strict(),
]);
export type Arrival = z.infer<typeof ArrivalSchema>;

const DeadlinesSchema = z
  .object({
    /** From the first arrival until the target holds every waiter. */
    ready_ms: positiveInt.default(30_000),
    /** From the first set until every notification arrived. */
    collect_ms: positiveInt.default(15_000),
  })
  .strict();

export const name = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "lower-case letters, digits and dashes");
export const description = z.string().min(1);
export const deadlines = DeadlinesSchema.default({ ready_ms: 30_000, collect_ms: 15_000 });
/**
 * Pass/fail conditions on the run's figures, by metric: {"latency_p99_ms": "<500", "duplicates":
 * "off"}. Checked against the metric catalogue when the file is loaded (core/verdict/thresholds.ts).
 */
export const thresholds = z.record(z.string(), z.string()).optional();

/**
 * How the waiters hear of values: long-poll (default), or a push transport the target's profile
 * offers (sse, websocket), for the types that can run over one (module.ts `push`). --transports
 * runs every target over several; a target cell's own transport wins over this field.
 */
export const transport = z.enum(TRANSPORTS).optional();

/** The fields every scenario type has, spread into each type's schema (so a new one is added here once). */
export const sharedFields = { name, description, thresholds, transport };

export const keysAtMostWaiters = (s: { keys: number; waiters: number }, ctx: z.RefinementCtx) => {
  if (s.keys > s.waiters) {
    ctx.addIssue({ code: "custom", path: ["keys"], message: `must be at most waiters (${s.waiters})` });
  }
};

/** Start a target, fork the workers, collect garbage, drain and stop: about this much per run here (the ETA). */
export const FIXED_MS = 2_500;
