// How long a scenario run should take, from its own schedule (arrival window, stream duration,
// timeout, churn, throughput and sweep steps) plus the fixed costs seen here (starting a target,
// the barrier, the drain): the ETA of the live status. An estimate, never a measurement.

import { type Scenario, scenarioModule } from "./scenario.ts";

export function expectedDurationMs(s: Scenario): number {
  return scenarioModule(s).expectedMs(s);
}
