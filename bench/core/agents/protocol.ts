// How the coordinator (npm run bench -- --agents URL) and the load agents (npm run agent) talk:
// through Redis, with no protocol of our own on the wire. Each agent announces itself in a registry
// (a set of names, and per agent a key with expiry that it refreshes: its liveness); each agent
// reads its own inbox (a list, BLPOP); each coordinator session reads its own outbox (a list).
// Lists keep order per sender, survive a reconnect of either side (they live in Redis), and expire
// when nobody reads them. Messages are JSON.

import type { FromWorker, ToWorker } from "../driver/messages.ts";

export const DEFAULT_AGENT_PREFIX = "lpb:agents:";
/** An agent refreshes its liveness key this often; it expires after AGENT_TTL_MS without one. */
export const HEARTBEAT_MS = 500;
export const AGENT_TTL_MS = 2_000;
/** Lists nobody reads any more (a coordinator or an agent gone) expire after this long. */
export const LIST_TTL_S = 600;

export interface AgentInfo {
  name: string;
  hostname: string;
  pid: number;
  cores: number;
  /** Its open-files limit (ulimit -n). */
  openFiles: number | undefined;
  /** Source addresses its workers bind (each socket its own address and port); empty: the kernel's. */
  sources: string[];
}

export interface AgentKeys {
  registry: string;
  info(name: string): string;
  inbox(name: string): string;
  outbox(session: string): string;
}

export function agentKeys(prefix = DEFAULT_AGENT_PREFIX): AgentKeys {
  return {
    registry: `${prefix}registry`,
    info: (name) => `${prefix}agent:${name}`,
    inbox: (name) => `${prefix}inbox:${name}`,
    outbox: (session) => `${prefix}outbox:${session}`,
  };
}

/** Coordinator → agent. */
export type ToAgent =
  /**
   * Fork `workers` driver workers for one run. The coordinator's clock offset to Redis comes along,
   * so the agent can tell its workers the offset between its clock and the coordinator's.
   */
  | {
      t: "job";
      job: string;
      replyTo: string;
      workers: number;
      coordinatorOffsetNs: string;
      coordinatorUncertaintyNs: string;
    }
  /** A message for worker `worker` of the job (the same IPC messages a local worker gets). */
  | { t: "to-worker"; job: string; worker: number; msg: ToWorker }
  | { t: "end-job"; job: string };

/** Agent → coordinator. */
export type FromAgent =
  | { t: "job-ready"; agent: string; job: string; adjustNs: string; uncertaintyNs: string }
  | { t: "job-failed"; agent: string; job: string; message: string }
  | { t: "from-worker"; agent: string; job: string; worker: number; msg: FromWorker }
  | { t: "worker-gone"; agent: string; job: string; worker: number; message: string };
