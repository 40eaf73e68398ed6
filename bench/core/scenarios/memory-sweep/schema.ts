// The memory-sweep scenario file's schema: its own fields beside the shared ones (../common.ts).

import { z } from "zod";
import { deadlines, positiveInt, sharedFields } from "../common.ts";

/** memory-sweep: parked waiters stepped up through `steps`; RSS and heap at each; bytes per waiter as the fitted slope. */
export const MemorySweepScenarioSchema = z
  .object({
    ...sharedFields,
    type: z.literal("memory-sweep"),
    steps: z.array(positiveInt.max(200_000)).min(2),
    keys: positiveInt.default(1),
    /** Each step's new waiters arrive uniformly within this window. */
    step_window_ms: z.number().positive().default(1000),
    wait_timeout_s: z.number().positive().default(600),
    deadlines,
  })
  .strict()
  .superRefine((s, ctx) => {
    for (let i = 1; i < s.steps.length; i++) {
      if ((s.steps[i] as number) <= (s.steps[i - 1] as number)) {
        ctx.addIssue({ code: "custom", path: ["steps", i], message: "steps must increase" });
      }
    }
  });

export type MemorySweepScenario = z.infer<typeof MemorySweepScenarioSchema>;
