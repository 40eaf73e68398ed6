// The coordinator's handle on the driver worker processes: fork them, hand each its plan, start the
// arrivals at one shared instant, ask for status and results, close the sockets, stop the workers.
// One process holds at most ~19,000 sockets here (ulimit -n 20,000), so the fleet is many processes
// from the start; one worker is just the smallest case.

import { fork } from "node:child_process";
import { availableParallelism } from "node:os";
import { type SchedPolicy, stopProcess, tsxNodeArgs } from "../../child-process.ts";
import { sumStatus } from "../metrics/aggregate.ts";
import type {
  FromWorker,
  ToWorker,
  WorkerCall,
  WorkerPlan,
  WorkerReplies,
  WorkerResults,
  WorkerStatus,
} from "./messages.ts";

const WORKER_MAIN = new URL("./worker.ts", import.meta.url).pathname;
const REPLY_TIMEOUT_MS = 30_000;

/**
 * The driver workers' scheduling policy unless --driver-sched says otherwise: batch. Why: on a host
 * that the driver shares with the target, a worker asleep in epoll is woken by the answers the
 * target writes and, as a normal process, may preempt the target's process to read them, a few at
 * a time, interrupting the target's wake loop. A batch worker does not preempt on wakeup; it reads
 * when a CPU is free or at the next tick, many answers at a time, and every target's fan-out took
 * less time so (docs/running.md, "How a run works"). Remote clients never take the server's CPU,
 * so batch is the nearer picture of a deployment.
 */
export const DEFAULT_DRIVER_SCHED: SchedPolicy = "batch";

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

export class FleetError extends Error {}

/**
 * How the coordinator reaches one worker: a child process on this host (localLink), or one an agent
 * hosts on another machine (agents/pool.ts). The fleet cannot tell them apart but for the pid.
 */
export interface WorkerLink {
  /** A process of this host (its CPU is read from /proc); undefined for an agent's worker. */
  readonly pid: number | undefined;
  /** The agent hosting it; undefined on this host. */
  readonly agent: string | undefined;
  send(message: ToWorker): void;
  /** Calls `onMessage` with each message of the worker, `onGone` once if it exits or is lost. */
  listen(onMessage: (m: FromWorker) => void, onGone: (error: Error) => void): void;
  stop(): Promise<void>;
}

/** A worker forked here. */
export function localLink(): WorkerLink {
  const child = fork(WORKER_MAIN, [], {
    // LPB_WORKER_NODE_ARGS: extra Node flags for the workers, for profiling them
    // (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"; NODE_OPTIONS refuses --cpu-prof).
    // --expose-gc: a worker collects its garbage between the connect phase and the fan-out (collectGarbage).
    execArgv: [
      ...tsxNodeArgs(),
      "--expose-gc",
      ...(process.env.LPB_WORKER_NODE_ARGS ?? "").split(" ").filter(Boolean),
    ],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    // Its own process group: a Ctrl-C at the terminal reaches the harness alone, which stops the
    // workers itself (a worker killed by the same SIGINT read as a harness failure, exit 70). A
    // worker whose harness is gone exits when the IPC channel closes (worker.ts).
    detached: true,
  });
  // A worker that is gone: its 'exit' reports it (onGone); a message sent to it meanwhile must not
  // become an unhandled EPIPE that kills the harness.
  child.on("error", () => {});
  return {
    pid: child.pid,
    agent: undefined,
    send: (m) => {
      if (child.connected) child.send(m, () => {});
    },
    listen(onMessage, onGone) {
      child.on("message", onMessage);
      child.once("exit", (code, signal) =>
        onGone(new FleetError(`driver worker ${child.pid} exited (${signal ?? `code ${code}`})`)),
      );
    },
    stop: () => stopProcess(child, 2_000),
  };
}

class WorkerHandle {
  /** The worst event-loop delay of the worker's latest 100 ms sample. */
  eventLoopMaxMs = 0;
  arrivalsDone = false;
  private nextId = 1;
  private waiting = new Map<number, { resolve: (m: FromWorker) => void; reject: (e: Error) => void }>();
  private exitError: Error | undefined;

  constructor(readonly link: WorkerLink) {
    link.listen(
      (message) => {
        switch (message.type) {
          case "sample":
            this.eventLoopMaxMs = message.eventLoopDelayMaxMs;
            return;
          case "arrivals-done":
            this.arrivalsDone = true;
            return;
          case "fatal":
            return this.failAll(new FleetError(`driver worker failed: ${message.message}`));
          default: {
            const waiter = this.waiting.get(message.id);
            if (waiter) {
              this.waiting.delete(message.id);
              waiter.resolve(message);
            }
          }
        }
      },
      (error) => {
        this.exitError ??= error;
        this.failAll(error);
      },
    );
  }

  private failAll(error: Error): void {
    for (const w of this.waiting.values()) w.reject(error);
    this.waiting.clear();
  }

  /** Send a call and wait for its reply, matched by a request id. */
  call<C extends WorkerCall>(call: C, timeoutMs = REPLY_TIMEOUT_MS): Promise<WorkerReplies[C["type"]]> {
    if (this.exitError) return Promise.reject(this.exitError);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        const who =
          this.link.agent === undefined
            ? `driver worker ${this.link.pid}`
            : `agent ${this.link.agent}'s driver worker`;
        reject(new FleetError(`${who} did not answer "${call.type}" in time`));
      }, timeoutMs);
      this.waiting.set(id, {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as unknown as WorkerReplies[C["type"]]);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.link.send({ ...call, id } as ToWorker);
    });
  }

  post(message: ToWorker): void {
    this.link.send(message);
  }
}

export class Fleet {
  private constructor(private readonly workers: WorkerHandle[]) {}

  /** Fork one worker per plan here and wait until each has built its requests. */
  static start(plans: WorkerPlan[]): Promise<Fleet> {
    return Fleet.on(
      plans.map(() => localLink()),
      plans,
    );
  }

  /** One worker per plan on the given links (here or on agents); each gets its plan. */
  static async on(links: WorkerLink[], plans: WorkerPlan[]): Promise<Fleet> {
    const workers = links.map((link) => new WorkerHandle(link));
    const fleet = new Fleet(workers);
    try {
      await Promise.all(workers.map((w, i) => w.call({ type: "plan", plan: plans[i] as WorkerPlan })));
    } catch (error) {
      await fleet.stop();
      throw error;
    }
    return fleet;
  }

  /** The workers' processes on this host (an agent's are on another: not readable here). */
  get pids(): number[] {
    return this.workers.flatMap((w) => (w.link.pid === undefined ? [] : [w.link.pid]));
  }

  /** Each worker's agent, in worker order (undefined: this host). */
  get agents(): (string | undefined)[] {
    return this.workers.map((w) => w.link.agent);
  }

  /** The worst event-loop delay any worker reported in its latest 100 ms sample, ms. */
  eventLoopMaxMs(): number {
    return Math.max(0, ...this.workers.map((w) => w.eventLoopMaxMs));
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
        w.call({ type: "churn", perSecond: share, durationMs }, durationMs + REPLY_TIMEOUT_MS),
      ),
    );
  }

  get arrivalsDone(): boolean {
    return this.workers.every((w) => w.arrivalsDone);
  }

  /** Each worker's status, in worker order. */
  async statuses(): Promise<WorkerStatus[]> {
    const all = await Promise.all(this.workers.map((w) => w.call({ type: "status" })));
    return all.map((m) => m.status);
  }

  async status(): Promise<WorkerStatus> {
    return sumStatus(await this.statuses());
  }

  /**
   * Every worker collects its young garbage now, once its waiters are parked and before the phase
   * that is measured next. Why: ~40 MB of a connect ramp's sockets and parsers are still young then,
   * and a scavenge in the middle of a fan-out copied them (12–18 ms of a 10k fan-out's ~100 ms, seen
   * with --trace-gc); collected here, that cost is the connect phase's, where it was made.
   */
  async collectGarbage(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.call({ type: "collect-garbage" })));
  }

  async results(): Promise<WorkerResults[]> {
    const all = await Promise.all(this.workers.map((w) => w.call({ type: "results" })));
    return all.map((m) => m.results);
  }

  /** Close every waiter socket (the drain phase). */
  async closeSockets(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.call({ type: "close" })));
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.link.stop()));
  }
}
