// The churn scenario file's schema: its own fields beside the shared ones (../common.ts).

import { z } from "zod";
import { ArrivalSchema, deadlines, keysAtMostWaiters, positiveInt, sharedFields } from "../common.ts";

/**
 * churn: W waiters park; then for `duration_s`, `churn_per_s` of them per second abort their request
 * and open a new one; then all stop. The target must come back to 0 parked and its heap (after GC,
 * where the target exposes it) to within `heap_tolerance_bytes` of where it started.
 */
export const ChurnScenarioSchema = z
  .object({
    ...sharedFields,
    type: z.literal("churn"),
    waiters: positiveInt.max(200_000),
    keys: positiveInt.default(1),
    arrival: ArrivalSchema,
    churn_per_s: z.number().positive().max(100_000),
    duration_s: z.number().positive().max(3600),
    heap_tolerance_bytes: positiveInt.default(4 * 1024 * 1024),
    wait_timeout_s: z.number().positive().default(300),
    deadlines,
  })
  .strict()
  .superRefine(keysAtMostWaiters);

export type ChurnScenario = z.infer<typeof ChurnScenarioSchema>;
