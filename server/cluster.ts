// The reference server on several processes (--processes N, with --redis): node:cluster. The primary
// forks N workers and holds no client connection; each worker runs the whole server (front, fastify,
// a Redis broker) on the one shared port.
//
// Who accepts (--balance): "kernel" (default): every worker accepts on the shared listening socket
// and the kernel hands each connection to one of them; "round-robin" (Node's own default on Linux):
// the primary accepts every connection and passes it to the next worker. The primary's passing
// costs far more CPU per connection than the kernel's dealing, so the kernel accepts by default
// (docs/perf/2026-11-28-design-figures.md, "Who accepts"); its spread over 8 processes is in
// docs/scale-out.md.
//
// GET /stats answers for the whole server, whichever worker receives it: the worker asks the
// primary, the primary asks every worker for its own figures and sums them (parked waiters, keys,
// counters, memory and CPU, its own included), so the harness's readiness barrier stays exact.
//
// Shutdown: SIGTERM/SIGINT to the primary tells every worker to shut down (each answers its parked
// waiters with shutting_down) and exits when all have. A worker that dies otherwise takes the server
// down with exit 1: a benchmark target that silently lost a share of its waiters would mislead.

import cluster, { type Worker } from "node:cluster";
import type { StatsDocument } from "./app.ts";

type ToPrimary =
  | { lpb: "listening"; url: string }
  | { lpb: "stats?"; id: number; gc: boolean }
  | { lpb: "own-stats"; id: number; doc: StatsDocument };
type ToWorker =
  | { lpb: "stats"; id: number; doc: StatsDocument }
  | { lpb: "own-stats?"; id: number; gc: boolean }
  | { lpb: "shutdown" };

const STOP_GRACE_MS = 10_000;

export type Balance = "kernel" | "round-robin";

export interface PrimaryOptions {
  processes: number;
  balance: Balance;
  log: (line: string) => void;
  /** The primary's own figures (memory, CPU), added to the workers'. */
  ownResources: () => Pick<StatsDocument, "memory" | "cpu">;
}

/** Fork the workers; resolve with the URL once every one listens. */
export function startPrimary(options: PrimaryOptions): Promise<string> {
  const workers: Worker[] = [];
  let nextId = 1;
  /** Stats requests being gathered: the requesting worker and the answers so far. */
  const gathering = new Map<
    number,
    { from: Worker; gc: boolean; docs: StatsDocument[]; requesterId: number }
  >();
  let stopping = false;
  let listening = 0;

  return new Promise((resolve, reject) => {
    const stopAll = (code: number) => {
      if (stopping) return;
      stopping = true;
      for (const w of workers) if (w.isConnected()) w.send({ lpb: "shutdown" } satisfies ToWorker);
      const kill = setTimeout(() => {
        for (const w of workers) if (!w.isDead()) w.process.kill("SIGKILL");
      }, STOP_GRACE_MS);
      kill.unref();
      const exitWhenDone = () => {
        if (workers.every((w) => w.isDead())) process.exit(code);
      };
      cluster.on("exit", exitWhenDone);
      exitWhenDone();
    };
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      process.on(signal, () => {
        options.log(`longpoll-server: ${signal}: stopping ${workers.length} processes`);
        stopAll(0);
      });
    }

    cluster.schedulingPolicy = options.balance === "kernel" ? cluster.SCHED_NONE : cluster.SCHED_RR;
    for (let i = 0; i < options.processes; i++) {
      const worker = cluster.fork();
      workers.push(worker);
      worker.on("message", (m: ToPrimary) => {
        switch (m.lpb) {
          case "listening":
            listening++;
            if (listening === options.processes) resolve(m.url);
            return;
          case "stats?": {
            const id = nextId++;
            gathering.set(id, { from: worker, gc: m.gc, docs: [], requesterId: m.id });
            for (const w of workers) w.send({ lpb: "own-stats?", id, gc: m.gc } satisfies ToWorker);
            return;
          }
          case "own-stats": {
            const g = gathering.get(m.id);
            if (!g) return;
            g.docs.push(m.doc);
            if (g.docs.length < workers.length) return;
            gathering.delete(m.id);
            const doc = sumStats(g.docs, options.ownResources());
            if (g.from.isConnected())
              g.from.send({ lpb: "stats", id: g.requesterId, doc } satisfies ToWorker);
            return;
          }
        }
      });
    }
    cluster.on("exit", (worker, code, signal) => {
      if (stopping) return;
      const why = `process ${worker.process.pid} exited (${signal ?? `code ${code}`})`;
      if (listening < options.processes) reject(new Error(`a server process failed to start: ${why}`));
      options.log(`longpoll-server: ${why}; stopping the server`);
      stopAll(1);
    });
  });
}

/** In a worker: answer the primary's requests for this process's figures, and its shutdown. */
export function serveWorker(options: {
  ownStats: (gc: boolean) => Promise<StatsDocument>;
  shutdown: () => void;
}): { serverStats: (gc: boolean) => Promise<StatsDocument>; listening: (url: string) => void } {
  let nextId = 1;
  const waiting = new Map<number, (doc: StatsDocument) => void>();
  const send = (m: ToPrimary) => process.send?.(m);
  process.on("message", (m: ToWorker) => {
    switch (m.lpb) {
      case "own-stats?":
        options.ownStats(m.gc).then((doc) => send({ lpb: "own-stats", id: m.id, doc }));
        return;
      case "stats":
        waiting.get(m.id)?.(m.doc);
        waiting.delete(m.id);
        return;
      case "shutdown":
        options.shutdown();
        return;
    }
  });
  return {
    serverStats: (gc) =>
      new Promise((resolve) => {
        const id = nextId++;
        waiting.set(id, resolve);
        send({ lpb: "stats?", id, gc });
      }),
    listening: (url) => send({ lpb: "listening", url }),
  };
}

/** The whole server's figures: every process's summed (version: the highest), each one's kept. */
export function sumStats(
  docs: StatsDocument[],
  primary: Pick<StatsDocument, "memory" | "cpu">,
): StatsDocument {
  const first = docs[0] as StatsDocument;
  const counters = { ...first.counters };
  for (const d of docs.slice(1)) {
    for (const k of Object.keys(counters) as (keyof typeof counters)[]) counters[k] += d.counters[k];
  }
  const sum = (f: (d: Pick<StatsDocument, "memory" | "cpu">) => number) =>
    docs.reduce((total, d) => total + f(d), f(primary));
  return {
    error_code: 0,
    waiters: docs.reduce((n, d) => n + d.waiters, 0),
    keys: docs.reduce((n, d) => n + d.keys, 0),
    version: Math.max(...docs.map((d) => d.version)),
    counters,
    broker: { kind: first.broker.kind, connected: docs.every((d) => d.broker.connected !== false) },
    memory: {
      rss_bytes: sum((d) => d.memory.rss_bytes),
      heap_used_bytes: sum((d) => d.memory.heap_used_bytes),
      heap_total_bytes: sum((d) => d.memory.heap_total_bytes),
    },
    cpu: { user_us: sum((d) => d.cpu.user_us), system_us: sum((d) => d.cpu.system_us) },
    gc_collected: docs.every((d) => d.gc_collected),
    limits: first.limits,
    pid: process.pid,
    uptime_s: process.uptime(),
    processes: docs.length,
    per_process: docs,
  };
}
