// The one aggregation of driver workers' results (autocannon's aggregateResult is the model): counters
// summed, histograms merged from their encoded form, error reasons added, the latest delivery kept.
// Pure: every runner and the run itself use this, so a report is merged exactly once.

import { emptyStatus, type WorkerResults, type WorkerStatus } from "../driver/messages.ts";
import { type DeliveryTimeline, mergeTimelines } from "./delivery-timeline.ts";
import { encodeHistogram, mergeEncoded } from "./histograms.ts";

export interface Aggregate {
  /** Every counter summed over the workers. */
  counts: WorkerStatus;
  /** Encoded merged histograms; absent where no worker recorded a sample. */
  histograms: { latency?: string; connect?: string; lateness?: string };
  /** The latest notification any worker received (hrtime ns), if any. */
  lastDeliveryNs: bigint | undefined;
  /** Deliveries over time, t = 0 at the first set; absent when nothing was delivered. */
  deliveries: DeliveryTimeline | undefined;
  errorReasons: Record<string, number>;
}

/** Sum worker statuses field by field (a status has only counters). */
export function sumStatus(all: readonly WorkerStatus[]): WorkerStatus {
  const total: WorkerStatus = emptyStatus();
  for (const s of all) for (const k of Object.keys(total) as (keyof WorkerStatus)[]) total[k] += s[k] ?? 0; // (an older agent's worker may lack a newer count)
  return total;
}

export function aggregateWorkerResults(reports: readonly WorkerResults[]): Aggregate {
  const merged = (pick: (r: WorkerResults) => string) => {
    const h = mergeEncoded(reports.map(pick));
    return h.totalCount > 0 ? encodeHistogram(h) : undefined;
  };
  const histograms: Aggregate["histograms"] = {};
  const latency = merged((r) => r.latencyHistogram);
  const connect = merged((r) => r.connectHistogram);
  const lateness = merged((r) => r.latenessHistogram);
  if (latency) histograms.latency = latency;
  if (connect) histograms.connect = connect;
  if (lateness) histograms.lateness = lateness;
  const errorReasons: Record<string, number> = {};
  let lastDeliveryNs: bigint | undefined;
  for (const r of reports) {
    for (const [reason, n] of Object.entries(r.errorReasons))
      errorReasons[reason] = (errorReasons[reason] ?? 0) + n;
    if (r.lastDeliveryNs !== undefined) {
      const t = BigInt(r.lastDeliveryNs);
      if (lastDeliveryNs === undefined || t > lastDeliveryNs) lastDeliveryNs = t;
    }
  }
  const deliveries = mergeTimelines(reports.map((r) => r.timeline));
  return { counts: sumStatus(reports), histograms, lastDeliveryNs, deliveries, errorReasons };
}
