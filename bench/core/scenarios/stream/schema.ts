// The stream scenario file's schema: its own fields beside the shared ones (../common.ts).

import { z } from "zod";
import { ArrivalSchema, deadlines, keysAtMostWaiters, positiveInt, sharedFields } from "../common.ts";

/**
 * stream: W waiters over K keys re-poll after every answer (with the `since` cursor where the target
 * has one; else a fresh key per message) while the setter publishes at `rate_per_s` for `duration_s`,
 * round-robin over the keys. Every waiter must see every message of its key, once and in order.
 * Over a push transport a waiter is a subscriber: one connection per key receives every message.
 */
export const StreamScenarioSchema = z
  .object({
    ...sharedFields,
    type: z.literal("stream"),
    waiters: positiveInt.max(200_000),
    keys: positiveInt,
    arrival: ArrivalSchema,
    rate_per_s: z.number().positive().max(100_000),
    duration_s: z.number().positive().max(3600),
    wait_timeout_s: z.number().positive().default(60),
    /**
     * Every waiter drops its connection after this many messages and resumes on a new one from its
     * cursor (Last-Event-ID, since=...): what a subscriber that goes away and comes back loses.
     */
    reconnect_after: positiveInt.optional(),
    deadlines,
  })
  .strict()
  .superRefine(keysAtMostWaiters);

export type StreamScenario = z.infer<typeof StreamScenarioSchema>;
