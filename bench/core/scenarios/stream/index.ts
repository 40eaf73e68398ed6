// stream: waiters re-poll while the setter publishes at a rate: is anything lost, duplicated or
// reordered, and how late.

import { arrivalSpanMs } from "../../driver/arrival-schedule.ts";
import { correctness, info } from "../../metrics/spec.ts";
import { FIXED_MS } from "../common.ts";
import { CPU, LATENCY, scenarioType } from "../module.ts";
import { StreamScenarioSchema } from "./schema.ts";

export const stream = scenarioType({
  type: "stream",
  summary:
    "waiters re-poll with the cursor while sets are published at a rate: lost, duplicated, reordered, how late",
  schema: StreamScenarioSchema,
  push: true,
  cannotRunOver: (s, over) =>
    s.reconnect_after !== undefined && !over.resumes
      ? `it reconnects (reconnect_after), and the profile "${over.profile}"'s ${over.transport} messages carry no cursor to resume from (transports.${over.transport}.message, docs/transports.md)`
      : undefined,
  sockets: (s) => s.waiters,
  expectedMs: (s) => FIXED_MS + arrivalSpanMs(s.arrival, s.waiters) + s.duration_s * 1000 + 500,
  loadRunner: () => import("./runner.ts").then((m) => m.runStream),
  metrics: {
    stream_cursor: info("bool", "1: re-polled with the since cursor; 0: a fresh key per message"),
    stream_messages_per_key: info("count", "messages the setter published on each key"),
    reconnects: info("count", "connections dropped on purpose and resumed from the cursor (reconnect_after)"),
    lost: correctness("messages a waiter never saw (gaps and missing tail)"),
    out_of_order: correctness("messages that arrived after a later one"),
    sets_late: info("count", "sets sent over 2 ms behind their schedule (the setter's own lateness)"),
    sets_cut: info(
      "count",
      "sets unsent or unanswered when the stream was cut (its schedule plus the collect deadline had passed)",
    ),
    set_lateness_p99_ms: info("ms", "setter lateness behind schedule, 99th percentile"),
    fell_behind: correctness(
      "1 when the stream fell behind: its sets went out (p99), or its messages arrived (p50), later than 10 × a key's message interval (at least 1 s), or it was cut at its deadline",
    ),
  },
  columns: [
    { head: "waiters", metric: "waiters" },
    { head: "msgs/key", metric: "stream_messages_per_key" },
    ...LATENCY,
    { head: "delivered", metric: "delivered" },
    { head: "lost", metric: "lost" },
    { head: "dup", metric: "duplicates" },
    { head: "reorder", metric: "out_of_order" },
    { head: "late sets", metric: "sets_late" },
    { head: "errors", metric: "errors" },
    ...CPU,
  ],
  headlines: [
    ["latency_p50_ms", "latency p50 (ms)", 1],
    ["latency_p99_ms", "latency p99 (ms)", 1],
    ["delivered", "delivered", 0],
    ["lost", "lost", 0],
    ["duplicates", "duplicates", 0],
    ["out_of_order", "out of order", 0],
  ],
  sideBySide: [
    ["latency_p50_ms", "latency p50 (ms)", 1],
    ["lost", "lost messages", 0],
  ],
});
