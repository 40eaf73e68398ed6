// A load agent (npm run agent -- --redis URL): a long-running process on a load machine that
// announces itself in Redis, waits for work, runs its share of a waiter fleet with the same driver
// workers as a local run (forked here; their IPC messages relayed through Redis), and reports back.
// It measures its clock against Redis for each job, so its workers read the coordinator's clock.
// It survives a reconnect: node-redis reconnects, and the agent announces itself again.

import { availableParallelism, hostname } from "node:os";
import type { RedisClientType } from "redis";
import { localLink, type WorkerLink } from "../driver/fleet.ts";
import type { ToWorker } from "../driver/messages.ts";
import { openFileLimit } from "../metrics/proc.ts";
import { measureOffset } from "./clock.ts";
import {
  AGENT_TTL_MS,
  type AgentInfo,
  type AgentKeys,
  agentKeys,
  type FromAgent,
  HEARTBEAT_MS,
  type ToAgent,
} from "./protocol.ts";
import { connectPair, pushMessage, readMessages } from "./redis-lists.ts";

export interface AgentOptions {
  redisUrl: string;
  name: string;
  sources: string[];
  /** For testing clock correction: this agent's clock reads this many ns off (its workers' too). */
  skewNs: bigint;
  prefix?: string;
  log: (line: string) => void;
}

interface Job {
  id: string;
  replyTo: string;
  workers: WorkerLink[];
  clock: { adjustNs: string; skewNs: string };
}

export class Agent {
  private readonly keys: AgentKeys;
  private readonly info: AgentInfo;
  private jobs = new Map<string, Job>();
  private stopping = false;
  private heartbeat: NodeJS.Timeout | undefined;

  private constructor(
    private readonly options: AgentOptions,
    private readonly cmd: RedisClientType,
    /** BLPOP blocks its connection: a connection of its own. */
    private readonly reader: RedisClientType,
  ) {
    this.keys = agentKeys(options.prefix);
    this.info = {
      name: options.name,
      hostname: hostname(),
      pid: process.pid,
      cores: availableParallelism(),
      openFiles: openFileLimit(),
      sources: options.sources,
    };
  }

  static async start(options: AgentOptions): Promise<Agent> {
    let agent: Agent | undefined;
    let lost = false;
    const { cmd, reader } = await connectPair(options.redisUrl, `agent ${options.name}`, (e) => {
      if (!lost && agent?.heartbeat)
        options.log(`agent ${options.name}: redis connection lost (${e.message})`);
      lost = true;
    });
    agent = new Agent(options, cmd, reader);
    const started = agent;
    cmd.on("ready", () => {
      if (lost && started.heartbeat) {
        options.log(`agent ${options.name}: redis back; announcing again`);
        void started.announce();
      }
      lost = false;
    });
    await started.announce();
    started.heartbeat = setInterval(() => void started.announce().catch(() => {}), HEARTBEAT_MS);
    void started.serve();
    return started;
  }

  get name(): string {
    return this.info.name;
  }

  /** Stop serving: end every job (its workers stop), leave the registry. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.heartbeat);
    await Promise.all([...this.jobs.keys()].map((id) => this.endJob(id)));
    await this.cmd.del(this.keys.info(this.info.name)).catch(() => {});
    await this.cmd.sRem(this.keys.registry, this.info.name).catch(() => {});
    this.reader.destroy();
    await this.cmd.close().catch(() => {});
  }

  private async announce(): Promise<void> {
    await this.cmd.sAdd(this.keys.registry, this.info.name);
    await this.cmd.set(this.keys.info(this.info.name), JSON.stringify(this.info), { PX: AGENT_TTL_MS });
  }

  private serve(): Promise<void> {
    return readMessages<ToAgent>(
      this.reader,
      this.keys.inbox(this.info.name),
      () => this.stopping,
      (message) =>
        this.handle(message).catch((error: Error) =>
          this.options.log(`agent ${this.info.name}: ${error.message}`),
        ),
    );
  }

  private send(to: string, message: FromAgent): void {
    pushMessage(this.cmd, to, message);
  }

  private async handle(message: ToAgent): Promise<void> {
    switch (message.t) {
      case "job":
        return this.startJob(message);
      case "to-worker": {
        const job = this.jobs.get(message.job);
        const worker = job?.workers[message.worker];
        if (!job || !worker) return;
        worker.send(this.localise(job, message.worker, message.msg));
        return;
      }
      case "end-job":
        return this.endJob(message.job);
    }
  }

  private async startJob(m: Extract<ToAgent, { t: "job" }>): Promise<void> {
    try {
      const now = () => process.hrtime.bigint() + this.options.skewNs;
      const own = await measureOffset(() => this.cmd.time() as unknown as Promise<string[]>, now);
      const adjustNs = own.offsetNs - BigInt(m.coordinatorOffsetNs);
      const uncertaintyNs = own.uncertaintyNs + BigInt(m.coordinatorUncertaintyNs);
      const workers = Array.from({ length: m.workers }, () => localLink());
      const job: Job = {
        id: m.job,
        replyTo: m.replyTo,
        workers,
        clock: { adjustNs: adjustNs.toString(), skewNs: this.options.skewNs.toString() },
      };
      this.jobs.set(m.job, job);
      workers.forEach((w, i) => {
        w.listen(
          (msg) =>
            this.send(m.replyTo, { t: "from-worker", agent: this.info.name, job: m.job, worker: i, msg }),
          (error) => {
            // A worker stopped at the job's end is not news; one that died mid-job is.
            if (!this.jobs.has(m.job)) return;
            this.send(m.replyTo, {
              t: "worker-gone",
              agent: this.info.name,
              job: m.job,
              worker: i,
              message: error.message,
            });
          },
        );
      });
      this.options.log(
        `agent ${this.info.name}: job ${m.job}: ${m.workers} workers; clock offset to the coordinator ${Number(adjustNs) / 1e6} ms ± ${Number(uncertaintyNs) / 1e6} ms`,
      );
      this.send(m.replyTo, {
        t: "job-ready",
        agent: this.info.name,
        job: m.job,
        adjustNs: adjustNs.toString(),
        uncertaintyNs: uncertaintyNs.toString(),
      });
    } catch (error) {
      this.send(m.replyTo, {
        t: "job-failed",
        agent: this.info.name,
        job: m.job,
        message: (error as Error).message,
      });
    }
  }

  /**
   * A plan reaches its worker with this machine's part filled in: the clock offset to the
   * coordinator, and this agent's source addresses (each socket its own address and port, counted
   * over this agent's workers).
   */
  private localise(job: Job, index: number, msg: ToWorker): ToWorker {
    if (msg.type !== "plan") return msg;
    const sources = this.info.sources;
    return {
      ...msg,
      plan: {
        ...msg.plan,
        clock: job.clock,
        sourceAddresses: sources,
        workerIndex: index,
        workers: job.workers.length,
      },
    };
  }

  private async endJob(id: string): Promise<void> {
    const job = this.jobs.get(id);
    if (!job) return;
    this.jobs.delete(id);
    await Promise.all(job.workers.map((w) => w.stop()));
  }
}
