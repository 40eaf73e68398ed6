// What a scenario type is, in one place: everything the harness knows of one type lives in its folder
// (scenarios/<type>/: its schema, its runner, and this module), and everything else iterates the
// registry (registry.ts). Adding a type is one folder and one line there.
//
// The module is data and small pure functions. Its runner is loaded when a run needs it (loadRunner),
// so that reading the registry (the scenario schema, the metric catalog, the tables) never loads the
// runners, which themselves use the schema and the catalog.

import type { z } from "zod";
import type { MetricSpec } from "../metrics/spec.ts";
import type { PushTransport } from "../targets/transports.ts";

/** A column of the console's table for a type: header, metric, decimals; wide: only with --wide. */
export interface Column {
  head: string;
  metric: string;
  digits?: number;
  wide?: boolean;
}

/** A headline figure: its metric, its label in the report and the side-by-side table, decimals. */
export type Headline = readonly [metric: string, label: string, digits: number];

export interface ScenarioTypeModule<
  T extends string = string,
  S extends { type: T } = { type: T },
  M extends Record<string, MetricSpec> = Record<string, MetricSpec>,
> {
  readonly type: T;
  /** One line for --list and the docs. */
  readonly summary: string;
  readonly schema: z.ZodType<S>;
  /** The most sockets a scenario of this type holds open at once (the host-limit preflight). */
  sockets(s: S): number;
  /** How long a run should take, from its own schedule (the live status's ETA; never a measurement). */
  expectedMs(s: S): number;
  /** The runner (runners/api.ts's Runner<S>), loaded when a run needs it. */
  loadRunner(): Promise<unknown>;
  /** The metrics only this type records (the catalog adds the shared ones). */
  readonly metrics: M;
  /** The console table's columns. */
  readonly columns: readonly Column[];
  /** The report's headline figures, and (sideBySide) those of the table that compares targets. */
  readonly headlines: readonly Headline[];
  readonly sideBySide?: readonly Headline[];
  /** What a target's protocol must offer to run it: a timeout of its own (a wait that times out). */
  readonly needs?: "timeout";
  /**
   * Its waiters can be push subscribers (SSE, WebSocket: one connection per waiter that receives
   * every value) as well as long polls; absent: long poll only (a timeout storm times long polls).
   */
  readonly push?: boolean;
  /**
   * Why a scenario of this type cannot run over a push transport that the target's profile does
   * offer (a stream that reconnects needs messages with a cursor to resume from): the cell is skipped
   * with this note before anything starts, as one whose transport is missing is. `resumes`: the
   * profile's messages on that transport carry a cursor a reconnect can send back.
   */
  cannotRunOver?(
    s: S,
    over: { profile: string; transport: PushTransport; resumes: boolean },
  ): string | undefined;
  /** Waiters may stay parked after the drain without a LEAK warning (they are the finding itself). */
  readonly drainJudgedByItself?: boolean;
  /**
   * Correctness metrics this type expects to be above 0 (a timeout storm's timeouts): not among its
   * default thresholds (core/verdict/thresholds.ts). Every other correctness metric must be 0.
   */
  readonly expectedNonZero?: readonly string[];
}

/** A module with its types kept as written (the registry derives the scenario and metric types). */
export function scenarioType<T extends string, S extends { type: T }, M extends Record<string, MetricSpec>>(
  m: ScenarioTypeModule<T, S, M>,
): ScenarioTypeModule<T, S, M> {
  return m;
}

// Column groups several types share.
export const PARKING: Column[] = [
  { head: "waiters", metric: "waiters" },
  { head: "in window", metric: "parked_within_window", wide: true },
  { head: "parked ms", metric: "all_parked_ms", digits: 0 },
  { head: "overflows", metric: "listen_overflows", wide: true },
  { head: "conn p99", metric: "connect_p99_ms", digits: 1, wide: true },
];
export const LATENCY: Column[] = [
  { head: "p50 ms", metric: "latency_p50_ms", digits: 1 },
  { head: "p99 ms", metric: "latency_p99_ms", digits: 1 },
  { head: "max ms", metric: "latency_max_ms", digits: 1, wide: true },
];
export const CPU: Column[] = [
  { head: "srv µs/n", metric: "server_cpu_per_notification_us", digits: 1 },
  { head: "drv µs/n", metric: "driver_cpu_per_notification_us", digits: 1 },
];
export const MEMORY: Column[] = [
  { head: "rss B/w", metric: "target_rss_per_waiter_bytes", digits: 0 },
  { head: "heap B/w", metric: "target_heap_per_waiter_bytes", digits: 0, wide: true },
];
