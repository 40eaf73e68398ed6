// The timeout-storm scenario file's schema: its own fields beside the shared ones (../common.ts).

import { z } from "zod";
import { ArrivalSchema, deadlines, keysAtMostWaiters, positiveInt, sharedFields } from "../common.ts";

/** timeout-storm: W waiters ask for the same short timeout and no set comes: every one must time out once, on time. */
export const TimeoutStormScenarioSchema = z
  .object({
    ...sharedFields,
    type: z.literal("timeout-storm"),
    waiters: positiveInt.max(200_000),
    keys: positiveInt.default(1),
    arrival: ArrivalSchema,
    timeout_s: z.number().positive().max(600),
    deadlines,
  })
  .strict()
  .superRefine(keysAtMostWaiters);

export type TimeoutStormScenario = z.infer<typeof TimeoutStormScenarioSchema>;
