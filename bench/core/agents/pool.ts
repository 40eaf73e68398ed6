// The coordinator's side of load agents (npm run bench -- --agents URL): which agents are live, how
// many driver workers each runs for a scenario (by its cores), and a WorkerLink per worker whose
// messages travel through Redis (protocol.ts). The run's fleet uses these links as it uses local
// workers, so everything after (status, reports, merging) is unchanged. An agent whose liveness key
// expires mid-run is lost: its workers' calls fail with an AgentsError naming it (exit 6).

import { randomUUID } from "node:crypto";
import type { RedisClientType } from "redis";
import { AgentsError } from "../../errors.ts";
import type { WorkerLink } from "../driver/fleet.ts";
import { MAX_SOCKETS_PER_WORKER } from "../driver/fleet.ts";
import type { FromWorker, ToWorker } from "../driver/messages.ts";
import { measureOffset } from "./clock.ts";
import {
  type AgentInfo,
  type AgentKeys,
  agentKeys,
  type FromAgent,
  HEARTBEAT_MS,
  type ToAgent,
} from "./protocol.ts";
import { connectPair, pushMessage, readMessages } from "./redis-lists.ts";

const JOB_READY_TIMEOUT_MS = 30_000;
const WAIT_FOR_AGENTS_MS = 10_000;

/** One agent's part of a run: its name, its workers, its clock offset to the coordinator. */
export interface AgentShare {
  name: string;
  workers: number;
  /** Added to its clock to read the coordinator's, ms; and the ± bound of that estimate. */
  clockOffsetMs: number;
  clockUncertaintyMs: number;
}

interface Route {
  onMessage: (m: FromWorker) => void;
  onGone: (e: Error) => void;
  gone: boolean;
}

export class AgentPool {
  private readonly keys: AgentKeys;
  /** This session's outbox: every agent answers here. */
  private readonly session = randomUUID();
  private readonly routes = new Map<string, Route>();
  /** Jobs waiting for an agent's answer, by "agent/job": settled by the answer, or failed if it is lost. */
  private readonly ready = new Map<string, { answer: (m: FromAgent) => void; lost: (e: Error) => void }>();
  /** Agents with a job running, watched for liveness. */
  private readonly watched = new Map<string, string>();
  private closed = false;
  private watchTimer: NodeJS.Timeout | undefined;

  private constructor(
    readonly url: string,
    readonly minAgents: number,
    private readonly cmd: RedisClientType,
    private readonly reader: RedisClientType,
    prefix?: string,
  ) {
    this.keys = agentKeys(prefix);
  }

  /**
   * Connect, and wait (up to 10 s) until at least `minAgents` agents are live: too few is an error
   * before any load is sent.
   */
  static async connect(
    url: string,
    minAgents: number,
    options: { prefix?: string; waitMs?: number } = {},
  ): Promise<AgentPool> {
    // Connection errors after the start need no report here: a lost agent is found by its heartbeat.
    const { cmd, reader } = await connectPair(url, "--agents", () => {});
    const pool = new AgentPool(url, minAgents, cmd, reader, options.prefix);
    const deadline = Date.now() + (options.waitMs ?? WAIT_FOR_AGENTS_MS);
    let live = await pool.live();
    while (live.length < minAgents && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      live = await pool.live();
    }
    if (live.length < minAgents) {
      await pool.close();
      throw new AgentsError(
        `--agents: ${live.length} live agent(s) at ${url}${live.length ? ` (${live.map((a) => a.name).join(", ")})` : ""}, ${minAgents} needed (--min-agents ${minAgents}); start more with: npm run agent -- --redis ${url}`,
      );
    }
    void pool.read();
    pool.watchTimer = setInterval(() => void pool.checkLiveness(), HEARTBEAT_MS);
    return pool;
  }

  /** The agents whose liveness key is present now. */
  async live(): Promise<AgentInfo[]> {
    const names = (await this.cmd.sMembers(this.keys.registry)).sort();
    if (names.length === 0) return [];
    const infos = await this.cmd.mGet(names.map((n) => this.keys.info(n)));
    return infos.flatMap((text) => (text ? [JSON.parse(text) as AgentInfo] : []));
  }

  /** Driver workers for a scenario of this many sockets: enough to hold them, at least one per agent. */
  async workerCount(sockets: number): Promise<number> {
    const live = await this.live();
    return Math.max(Math.ceil(sockets / MAX_SOCKETS_PER_WORKER), live.length);
  }

  /**
   * Start `count` workers on the live agents (dealt by cores, at least one each) and return a link
   * per worker, in an order that deals the run's waiters over the agents in proportion.
   */
  async links(count: number): Promise<{ links: WorkerLink[]; shares: AgentShare[] }> {
    const live = await this.live();
    if (live.length < this.minAgents) {
      throw new AgentsError(
        `--agents: ${live.length} live agent(s), ${this.minAgents} needed (--min-agents ${this.minAgents})`,
      );
    }
    const counts = dealByCores(count, live);
    const coordinator = await measureOffset(
      () => this.cmd.time() as unknown as Promise<string[]>,
      () => process.hrtime.bigint(),
    );
    const job = randomUUID();
    const replyTo = this.keys.outbox(this.session);
    const answers = live.map(
      (agent, i) =>
        new Promise<FromAgent>((resolve, reject) => {
          const timer = setTimeout(
            () =>
              reject(new AgentsError(`agent ${agent.name} did not start its ${counts[i]} workers in time`)),
            JOB_READY_TIMEOUT_MS,
          );
          this.ready.set(`${agent.name}/${job}`, {
            answer: (m) => {
              clearTimeout(timer);
              resolve(m);
            },
            lost: (e) => {
              clearTimeout(timer);
              reject(e);
            },
          });
        }),
    );
    live.forEach((agent, i) => {
      this.post(agent.name, {
        t: "job",
        job,
        replyTo,
        workers: counts[i] as number,
        coordinatorOffsetNs: coordinator.offsetNs.toString(),
        coordinatorUncertaintyNs: coordinator.uncertaintyNs.toString(),
      });
      this.watched.set(agent.name, job);
    });
    let replies: FromAgent[];
    try {
      replies = await Promise.all(answers);
      const failed = replies.find((r) => r.t !== "job-ready");
      if (failed?.t === "job-failed")
        throw new AgentsError(`agent ${failed.agent} could not start: ${failed.message}`);
    } catch (error) {
      // The agents that did start their workers stop them: no half-started job is left behind.
      for (const agent of live) {
        this.watched.delete(agent.name);
        this.post(agent.name, { t: "end-job", job });
      }
      throw error;
    }
    const shares: AgentShare[] = [];
    const perAgent: WorkerLink[][] = [];
    replies.forEach((reply, i) => {
      const agent = live[i] as AgentInfo;
      if (reply.t !== "job-ready") return; // checked above
      shares.push({
        name: agent.name,
        workers: counts[i] as number,
        clockOffsetMs: Number(BigInt(reply.adjustNs)) / 1e6,
        clockUncertaintyMs: Number(BigInt(reply.uncertaintyNs)) / 1e6,
      });
      perAgent.push(Array.from({ length: counts[i] as number }, (_, w) => this.link(agent.name, job, w)));
    });
    // Interleave: the run deals waiters round-robin over workers, so each agent gets its share.
    const links: WorkerLink[] = [];
    for (let round = 0; links.length < count; round++) {
      for (const list of perAgent) if (list[round]) links.push(list[round] as WorkerLink);
    }
    return { links, shares };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.watchTimer);
    this.reader.destroy();
    await this.cmd.close().catch(() => {});
  }

  private link(agent: string, job: string, worker: number): WorkerLink {
    const id = `${agent}/${job}/${worker}`;
    return {
      pid: undefined,
      agent,
      send: (msg: ToWorker) => this.post(agent, { t: "to-worker", job, worker, msg }),
      listen: (onMessage, onGone) => {
        this.routes.set(id, { onMessage, onGone, gone: false });
      },
      stop: async () => {
        const route = this.routes.get(id);
        if (route) route.gone = true;
        this.routes.delete(id);
        if (this.watched.get(agent) === job) {
          this.watched.delete(agent);
          this.post(agent, { t: "end-job", job });
        }
      },
    };
  }

  private post(agent: string, message: ToAgent): void {
    pushMessage(this.cmd, this.keys.inbox(agent), message);
  }

  /** The session's outbox: replies and worker messages from every agent, in each agent's order. */
  private read(): Promise<void> {
    return readMessages<FromAgent>(
      this.reader,
      this.keys.outbox(this.session),
      () => this.closed,
      (m) => {
        switch (m.t) {
          case "job-ready":
          case "job-failed":
            this.ready.get(`${m.agent}/${m.job}`)?.answer(m);
            this.ready.delete(`${m.agent}/${m.job}`);
            break;
          case "from-worker":
            this.routes.get(`${m.agent}/${m.job}/${m.worker}`)?.onMessage(m.msg);
            break;
          case "worker-gone": {
            const route = this.routes.get(`${m.agent}/${m.job}/${m.worker}`);
            if (route && !route.gone) {
              route.gone = true;
              route.onGone(
                new AgentsError(
                  `agent ${m.agent}: its driver worker ${m.worker} is gone (${m.message})`,
                  m.agent,
                ),
              );
            }
            break;
          }
        }
      },
    );
  }

  /** An agent with a job whose liveness key expired is lost: every one of its workers is gone. */
  private async checkLiveness(): Promise<void> {
    if (this.watched.size === 0) return;
    let alive: Set<string>;
    try {
      alive = new Set((await this.live()).map((a) => a.name));
    } catch {
      return; // Redis unreachable for a moment: not evidence that an agent died
    }
    for (const [agent, job] of this.watched) {
      if (alive.has(agent)) continue;
      this.watched.delete(agent);
      // Lost before it answered the job: no need to wait out the start timeout.
      this.ready
        .get(`${agent}/${job}`)
        ?.lost(
          new AgentsError(
            `agent ${agent} was lost (no heartbeat for over 2 s) before its workers started`,
            agent,
          ),
        );
      this.ready.delete(`${agent}/${job}`);
      for (const [id, route] of this.routes) {
        if (!id.startsWith(`${agent}/${job}/`) || route.gone) continue;
        route.gone = true;
        route.onGone(
          new AgentsError(
            `agent ${agent} was lost mid-run (no heartbeat for over 2 s): its waiters are lost to the load generator, not notifications the server missed`,
            agent,
          ),
        );
      }
    }
  }
}

/** `count` workers over the agents in proportion to their cores, at least one each (largest remainder). */
export function dealByCores(count: number, agents: readonly Pick<AgentInfo, "cores">[]): number[] {
  const n = agents.length;
  if (count < n) throw new AgentsError(`${count} workers cannot cover ${n} agents`);
  const cores = agents.map((a) => Math.max(1, a.cores));
  const total = cores.reduce((s, c) => s + c, 0);
  const ideal = cores.map((c) => (count * c) / total);
  const out = ideal.map((x) => Math.max(1, Math.floor(x)));
  let sum = out.reduce((s, x) => s + x, 0);
  while (sum < count) {
    const i = argMax(ideal.map((x, j) => x - (out[j] as number)));
    out[i] = (out[i] as number) + 1;
    sum++;
  }
  while (sum > count) {
    const i = argMax(ideal.map((x, j) => ((out[j] as number) > 1 ? (out[j] as number) - x : -Infinity)));
    out[i] = (out[i] as number) - 1;
    sum--;
  }
  return out;
}

const argMax = (xs: number[]): number => xs.reduce((best, x, i) => (x > (xs[best] as number) ? i : best), 0);
