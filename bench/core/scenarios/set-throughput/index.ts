// set-throughput: autocannon drives /set, then /get of a present value, with no waiters: the plain
// request rate.

import { correctness, info, timing } from "../../metrics/spec.ts";
import { FIXED_MS } from "../common.ts";
import { scenarioType } from "../module.ts";
import { SetThroughputScenarioSchema } from "./schema.ts";

export const setThroughput = scenarioType({
  type: "set-throughput",
  summary: "autocannon on /set and /get of a present value, no waiters: the plain request rate",
  schema: SetThroughputScenarioSchema,
  sockets: (s) => s.connections,
  expectedMs: (s) => FIXED_MS + s.duration_s * 1000 * (s.get ? 2 : 1),
  loadRunner: () => import("./runner.ts").then((m) => m.runSetThroughput),
  metrics: {
    set_rps: {
      unit: "per_s",
      better: "larger",
      kind: "count",
      help: "/set requests per second (autocannon)",
    },
    set_requests: info("count", "/set requests completed"),
    set_latency_p50_ms: timing("ms", "/set response time, median"),
    set_latency_p99_ms: timing("ms", "/set response time, 99th percentile"),
    get_rps: { unit: "per_s", better: "larger", kind: "count", help: "/get of a present value per second" },
    get_latency_p50_ms: timing("ms", "/get of a present value, response time, median"),
    get_latency_p99_ms: timing("ms", "/get of a present value, response time, 99th percentile"),
    non_2xx: correctness("responses with a status outside 2xx"),
    request_errors: correctness("autocannon request errors and timeouts"),
    server_cpu_per_set_us: timing("us", "target CPU per /set"),
  },
  columns: [
    { head: "set/s", metric: "set_rps", digits: 0 },
    { head: "set p50", metric: "set_latency_p50_ms", digits: 2 },
    { head: "set p99", metric: "set_latency_p99_ms", digits: 2 },
    { head: "get/s", metric: "get_rps", digits: 0 },
    { head: "get p50", metric: "get_latency_p50_ms", digits: 2 },
    { head: "get p99", metric: "get_latency_p99_ms", digits: 2 },
    { head: "srv µs/set", metric: "server_cpu_per_set_us", digits: 1 },
    { head: "non-2xx", metric: "non_2xx" },
    { head: "errors", metric: "request_errors" },
  ],
  headlines: [
    ["set_rps", "/set per second", 0],
    ["set_latency_p99_ms", "/set latency p99 (ms)", 2],
    ["get_rps", "/get per second", 0],
    ["server_cpu_per_set_us", "server CPU per /set (µs)", 1],
  ],
  sideBySide: [
    ["set_rps", "/set requests per second", 0],
    ["server_cpu_per_set_us", "server CPU per /set (µs)", 1],
  ],
});
