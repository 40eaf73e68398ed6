// What one scenario run observes while its runner works (metrics, warnings, flags, error counts, the
// target's faults), kept as it comes so that a later failure loses none of it, and read once into
// the result. Its methods are the runner API's sink (runners/api.ts), as arrow properties: runners
// take them out of the API object.

import type { DriverPhase, MetricName } from "../metrics/catalog.ts";
import { METRICS } from "../metrics/catalog.ts";
import type { DeliveryTimeline } from "../metrics/delivery-timeline.ts";
import type { Metric, ResultFlags, ResultHistograms } from "../result.ts";

export class Observations {
  readonly metrics: Metric[] = [];
  readonly warnings: string[] = [];
  readonly driverBoundPhases: DriverPhase[] = [];
  barrierApproximate = false;
  readonly histograms: ResultHistograms = {};
  /** Deliveries over time, once the workers' results are taken. */
  deliveries: DeliveryTimeline | undefined;
  readonly errorReasons: Record<string, number> = {};
  /** What the target did that fails the run once it is measured (RunnerApi.targetFault). */
  readonly targetFaults: string[] = [];

  readonly metric = (name: MetricName, value: number): void => {
    // run.json holds counts, times, sizes and shares, and its readers refuse a negative one as a
    // damaged file: a figure that came out negative or not a number is kept out, with a warning that
    // names it, so the rest of the run stays readable.
    if (!Number.isFinite(value) || value < 0) {
      this.warnings.push(
        `${name} not recorded: it came out ${value}, which no measurement can be (a harness bug)`,
      );
      return;
    }
    this.metrics.push({ name, value: Math.round(value * 1000) / 1000, unit: METRICS[name].unit });
  };
  readonly warn = (text: string): void => {
    this.warnings.push(text);
  };
  readonly flagDriverBound = (phase: DriverPhase): void => {
    if (!this.driverBoundPhases.includes(phase)) this.driverBoundPhases.push(phase);
  };
  readonly flagBarrierApproximate = (): void => {
    this.barrierApproximate = true;
  };
  readonly targetFault = (text: string): void => {
    this.warnings.push(text);
    this.targetFaults.push(text);
  };
  readonly countErrors = (reasons: Record<string, number>, prefix = ""): void => {
    for (const [reason, n] of Object.entries(reasons)) {
      const key = `${prefix}${reason}`;
      this.errorReasons[key] = (this.errorReasons[key] ?? 0) + n;
    }
  };

  flags(streamMode: ResultFlags["streamMode"]): ResultFlags {
    return {
      driverBound: this.driverBoundPhases.length > 0,
      driverBoundPhases: this.driverBoundPhases,
      barrierApproximate: this.barrierApproximate,
      ...(streamMode ? { streamMode } : {}),
    };
  }
}
