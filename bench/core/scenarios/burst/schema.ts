// The burst scenario file's schema: its own fields beside the shared ones (../common.ts).

import { z } from "zod";
import { ArrivalSchema, deadlines, keysAtMostWaiters, positiveInt, sharedFields } from "../common.ts";

/**
 * burst: W waiters over K keys arrive on a schedule and park; then `sets.count` sets (one per key,
 * the first `count` keys) go out spread over `sets.window_ms`. Count 0 measures connecting alone.
 */
export const BurstScenarioSchema = z
  .object({
    ...sharedFields,
    type: z.literal("burst"),
    waiters: positiveInt.max(200_000),
    keys: positiveInt.default(1),
    arrival: ArrivalSchema,
    sets: z.object({ count: z.number().int().min(0), window_ms: z.number().min(0).default(0) }).strict(),
    /** The timeout each waiting /get asks for; long enough that none times out during the run. */
    wait_timeout_s: z.number().positive().default(120),
    deadlines,
  })
  .strict()
  .superRefine((s, ctx) => {
    keysAtMostWaiters(s, ctx);
    if (s.sets.count > s.keys) {
      ctx.addIssue({
        code: "custom",
        path: ["sets", "count"],
        message: `must be at most keys (${s.keys}): each set goes to its own key`,
      });
    }
  });

export type BurstScenario = z.infer<typeof BurstScenarioSchema>;
