// Load from agents (--agents): each agent's part of a run, beside the merged figures, and whether an
// agent's clock is known well enough for the latencies measured there.

import type { AgentShare } from "../agents/pool.ts";
import type { WorkerResults } from "../driver/messages.ts";
import { aggregateWorkerResults } from "../metrics/aggregate.ts";
import { decodeHistogram } from "../metrics/histograms.ts";
import type { AgentResult } from "../result.ts";

/** Each agent's part of the reports: its workers' reports aggregated as the whole run's are. */
export function perAgent(
  shares: AgentShare[],
  waiters: Map<string, number> | undefined,
  agentOfWorker: (string | undefined)[],
  reports: WorkerResults[],
): AgentResult[] {
  return shares.map((share) => {
    const own = aggregateWorkerResults(reports.filter((_, i) => agentOfWorker[i] === share.name));
    const latency = own.histograms.latency;
    const h = latency ? decodeHistogram(latency) : undefined;
    return {
      name: share.name,
      workers: share.workers,
      waiters: waiters?.get(share.name) ?? 0,
      delivered: own.counts.delivered,
      errors: own.counts.errors,
      ...(latency && h
        ? {
            latency,
            latency_p50_ms: h.getValueAtPercentile(50) / 1000,
            latency_p99_ms: h.getValueAtPercentile(99) / 1000,
          }
        : {}),
      clock_offset_ms: share.clockOffsetMs,
      clock_uncertainty_ms: share.clockUncertaintyMs,
    };
  });
}

/** The share of the merged p50 latency an agent's clock uncertainty may reach before the run says so. */
export const CLOCK_UNCERTAINTY_SHARE = 0.05;

/** A warning when an agent's clock is known less well than 5% of the latencies it measured. */
export function clockUncertaintyWarning(
  scenario: string,
  agents: readonly AgentResult[],
  latency: string | undefined,
): string | undefined {
  if (!latency) return undefined;
  const p50Ms = decodeHistogram(latency).getValueAtPercentile(50) / 1000;
  const loose = agents.filter((a) => a.clock_uncertainty_ms > CLOCK_UNCERTAINTY_SHARE * p50Ms);
  if (loose.length === 0) return undefined;
  return `${scenario}: the clock offset of agent(s) ${loose.map((a) => `${a.name} (± ${a.clock_uncertainty_ms.toFixed(3)} ms)`).join(", ")} is uncertain by more than ${CLOCK_UNCERTAINTY_SHARE * 100}% of the p50 latency (${p50Ms.toFixed(3)} ms): latencies measured there may be off by that much`;
}
