// The set-throughput scenario file's schema: its own fields beside the shared ones (../common.ts).

import { z } from "zod";
import { positiveInt, sharedFields } from "../common.ts";

/** set-throughput: autocannon drives /set (then /get of a present value) with no waiters: the plain request rate. */
export const SetThroughputScenarioSchema = z
  .object({
    ...sharedFields,
    type: z.literal("set-throughput"),
    connections: positiveInt.max(1000).default(50),
    duration_s: z.number().positive().max(600).default(5),
    value_bytes: positiveInt.max(65_536).default(64),
    /** Also measure /get of a present value (answered at once). */
    get: z.boolean().default(true),
  })
  .strict();

export type SetThroughputScenario = z.infer<typeof SetThroughputScenarioSchema>;
