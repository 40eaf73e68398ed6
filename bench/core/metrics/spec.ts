// What a metric is: its unit, which direction is better, and its kind; and the three shapes most
// metrics take. The catalog (catalog.ts) and each scenario type's own metrics are written with these.

export type Direction = "smaller" | "larger" | "info";
/**
 * timing: moves with machine speed; memory: bytes, independent of speed; correctness: counts where
 * any increase is a failure; count: other counts; info: context, never judged.
 */
export type Kind = "timing" | "memory" | "correctness" | "count" | "info";
export type Unit = "ms" | "us" | "bytes" | "count" | "ratio" | "pct" | "bool" | "per_s";

/** A driver phase whose pace a client-observed timing can be (see ScenarioResult.flags.driverBoundPhases in result.ts). */
export const DRIVER_PHASES = ["connect", "fanout"] as const;
export type DriverPhase = (typeof DRIVER_PHASES)[number];

export interface MetricSpec {
  unit: Unit;
  better: Direction;
  kind: Kind;
  help: string;
  /**
   * Set on timings the driver observes (latency, time to park): the phase whose driver-bound flag
   * says the figure may be the driver's pace rather than the server's. Server CPU has none.
   */
  phase?: DriverPhase;
}

export const timing = (unit: Unit, help: string, phase?: DriverPhase): MetricSpec => ({
  unit,
  better: "smaller",
  kind: "timing",
  help,
  ...(phase ? { phase } : {}),
});
export const correctness = (help: string): MetricSpec => ({
  unit: "count",
  better: "smaller",
  kind: "correctness",
  help,
});
export const info = (unit: Unit, help: string): MetricSpec => ({ unit, better: "info", kind: "info", help });
