// The scenario types, as a plain list with no schema library behind it: the driver workers need it
// (a protocol's supported types) and must not load zod (a larger heap made their mark-compact GCs
// cost more in the fan-out). scenario.ts checks, at compile time, that its schema has these types.

export const SCENARIO_TYPES = [
  "burst",
  "stream",
  "timeout-storm",
  "churn",
  "set-throughput",
  "memory-sweep",
] as const;

export type ScenarioType = (typeof SCENARIO_TYPES)[number];
