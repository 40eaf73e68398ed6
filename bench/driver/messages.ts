// The messages between the coordinator and a driver worker process (IPC, structured clone).
// Histograms travel encoded; times travel as hrtime nanoseconds in decimal strings (CLOCK_MONOTONIC,
// the same clock in every process on the host).

export interface WorkerPlan {
  workerIndex: number;
  host: string;
  port: number;
  /** Protocol adapter name (see targets/registry.ts). */
  adapter: string;
  waitTimeoutS: number;
  keys: string[];
  /** For each waiter of this worker: the index of its key in `keys`. */
  waiterKeys: number[];
  /** For each waiter: arrival offset in ms from the start of the connect phase (non-decreasing). */
  offsetsMs: number[];
}

export interface WorkerStatus {
  opened: number;
  connected: number;
  written: number;
  /** Waiters that received a value (first answer only). */
  delivered: number;
  duplicates: number;
  timeouts: number;
  errors: number;
  /** The worker's own CPU time so far (user + system), µs: finer than /proc's 10 ms ticks. */
  cpuUs: number;
}

export interface WorkerReport extends WorkerStatus {
  latencyHistogram: string;
  connectHistogram: string;
  firstDeliveryNs: string | undefined;
  lastDeliveryNs: string | undefined;
  /** Error counts by reason ("ECONNRESET", "HTTP 503 overloaded", "closed before answer", ...). */
  errorReasons: Record<string, number>;
}

export type ToWorker =
  | { type: "plan"; plan: WorkerPlan }
  | { type: "start"; startAtNs: string }
  | { type: "status" }
  | { type: "report" }
  | { type: "close" };

export type FromWorker =
  | { type: "ready" }
  | { type: "arrivals-done" }
  | { type: "sample"; eventLoopDelayMaxMs: number; eventLoopDelayP99Ms: number }
  | { type: "status"; status: WorkerStatus }
  | { type: "report"; report: WorkerReport }
  | { type: "closed" }
  | { type: "fatal"; message: string };
