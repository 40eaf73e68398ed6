// The coordinator's handle on the driver worker processes: fork them, hand each its plan, start the
// arrivals at one shared instant, ask for status and reports, close the sockets, stop the workers.
// One process holds at most ~19,000 sockets here (ulimit -n 20,000), so the fleet is many processes
// from the start; one worker is just the smallest case.

import { type ChildProcess, fork } from "node:child_process";
import { availableParallelism } from "node:os";
import { tsxNodeArgs } from "../targets/reference.ts";
import { stopProcess } from "../targets/spawn.ts";
import {
  emptyStatus,
  type FromWorker,
  type ToWorker,
  type WorkerPlan,
  type WorkerReport,
  type WorkerStatus,
} from "./messages.ts";

const WORKER_MAIN = new URL("./worker.ts", import.meta.url).pathname;
const REPLY_TIMEOUT_MS = 30_000;

/** Sockets one worker may hold: below the 20,000 fd limit with room for the runtime's own. */
export const MAX_SOCKETS_PER_WORKER = 15_000;

/**
 * Waiters one worker can receive a fan-out for without being the slower side: a worker spends
 * ~20 µs of CPU per notification, so 5,000 cost it ~100 ms, below the time the fastest servers
 * measured here (nchan, the reference) take to wake 10,000. One worker for 10,000 was the bottleneck
 * (its floor ~200 ms, flagged driver-bound against both).
 */
export const FANOUT_WAITERS_PER_WORKER = 5_000;

/**
 * Enough workers to hold the sockets, and more (up to the cores) so that no worker receives more
 * than FANOUT_WAITERS_PER_WORKER of one fan-out. Beyond the cores extra workers only contend.
 */
export function defaultWorkerCount(waiters: number, cores = availableParallelism()): number {
  const forSockets = Math.ceil(waiters / MAX_SOCKETS_PER_WORKER);
  const forFanout = Math.min(Math.ceil(waiters / FANOUT_WAITERS_PER_WORKER), cores);
  return Math.max(1, forSockets, forFanout);
}

export interface EventLoopSample {
  maxMs: number;
  p99Ms: number;
}

export class FleetError extends Error {}

class WorkerHandle {
  readonly loop: EventLoopSample = { maxMs: 0, p99Ms: 0 };
  arrivalsDone = false;
  private waiting = new Map<string, { resolve: (m: FromWorker) => void; reject: (e: Error) => void }>();
  private exitError: Error | undefined;

  constructor(readonly child: ChildProcess) {
    child.on("message", (message: FromWorker) => {
      if (message.type === "sample") {
        this.loop.maxMs = message.eventLoopDelayMaxMs;
        this.loop.p99Ms = message.eventLoopDelayP99Ms;
        return;
      }
      if (message.type === "arrivals-done") this.arrivalsDone = true;
      if (message.type === "fatal")
        return this.failAll(new FleetError(`driver worker failed: ${message.message}`));
      const waiter = this.waiting.get(message.type);
      if (waiter) {
        this.waiting.delete(message.type);
        waiter.resolve(message);
      }
    });
    child.once("exit", (code, signal) => {
      this.exitError = new FleetError(`driver worker ${child.pid} exited (${signal ?? `code ${code}`})`);
      this.failAll(this.exitError);
    });
  }

  private failAll(error: Error): void {
    for (const w of this.waiting.values()) w.reject(error);
    this.waiting.clear();
  }

  /** Send a message and wait for the reply of the given type. */
  call<T extends FromWorker["type"]>(
    message: ToWorker,
    reply: T,
    timeoutMs = REPLY_TIMEOUT_MS,
  ): Promise<Extract<FromWorker, { type: T }>> {
    if (this.exitError) return Promise.reject(this.exitError);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(reply);
        reject(new FleetError(`driver worker ${this.child.pid} did not answer "${message.type}" in time`));
      }, timeoutMs);
      this.waiting.set(reply, {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as Extract<FromWorker, { type: T }>);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send(message);
    });
  }

  post(message: ToWorker): void {
    this.child.send(message);
  }
}

export class Fleet {
  private constructor(private readonly workers: WorkerHandle[]) {}

  /** Fork one worker per plan and wait until each has built its requests. */
  static async start(plans: WorkerPlan[]): Promise<Fleet> {
    const workers = plans.map(
      () =>
        new WorkerHandle(
          fork(WORKER_MAIN, [], { execArgv: tsxNodeArgs(), stdio: ["ignore", "inherit", "inherit", "ipc"] }),
        ),
    );
    const fleet = new Fleet(workers);
    try {
      await Promise.all(
        workers.map((w, i) => w.call({ type: "plan", plan: plans[i] as WorkerPlan }, "ready")),
      );
    } catch (error) {
      await fleet.stop();
      throw error;
    }
    return fleet;
  }

  get pids(): number[] {
    return this.workers.map((w) => w.child.pid as number);
  }

  /** The worst event-loop delay any worker reported in its latest 100 ms sample. */
  eventLoop(): EventLoopSample {
    return {
      maxMs: Math.max(0, ...this.workers.map((w) => w.loop.maxMs)),
      p99Ms: Math.max(0, ...this.workers.map((w) => w.loop.p99Ms)),
    };
  }

  /**
   * Every worker starts its schedule at the same hrtime instant. `ranges` (per worker, [from, to) of
   * its waiters) opens one batch of a stepped scenario; by default, all of them.
   */
  begin(startAtNs: bigint, ranges?: [number, number][]): void {
    this.workers.forEach((w, i) => {
      const [from, to] = ranges?.[i] ?? [0, Number.MAX_SAFE_INTEGER];
      w.arrivalsDone = false;
      w.post({ type: "start", startAtNs: startAtNs.toString(), from, to });
    });
  }

  /** Abort and reopen waiters at `perSecond` in all (shared among the workers) for `durationMs`. */
  async churn(perSecond: number, durationMs: number): Promise<void> {
    const share = perSecond / this.workers.length;
    await Promise.all(
      this.workers.map((w) =>
        w.call({ type: "churn", perSecond: share, durationMs }, "churn-done", durationMs + REPLY_TIMEOUT_MS),
      ),
    );
  }

  get arrivalsDone(): boolean {
    return this.workers.every((w) => w.arrivalsDone);
  }

  /** Each worker's status, in worker order. */
  async statuses(): Promise<WorkerStatus[]> {
    const all = await Promise.all(this.workers.map((w) => w.call({ type: "status" }, "status")));
    return all.map((m) => m.status);
  }

  async status(): Promise<WorkerStatus> {
    return sumStatus(await this.statuses());
  }

  async reports(): Promise<WorkerReport[]> {
    const all = await Promise.all(this.workers.map((w) => w.call({ type: "report" }, "report")));
    return all.map((m) => m.report);
  }

  /** Close every waiter socket (the drain phase). */
  async closeSockets(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.call({ type: "close" }, "closed")));
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => stopProcess(w.child, 2_000)));
  }
}

export function sumStatus(all: WorkerStatus[]): WorkerStatus {
  const total: WorkerStatus = emptyStatus();
  for (const s of all) for (const k of Object.keys(total) as (keyof WorkerStatus)[]) total[k] += s[k];
  return total;
}
