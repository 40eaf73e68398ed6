// What the agent and the coordinator do alike with Redis (protocol.ts): open a pair of connections
// (one for commands, one that blocks in BLPOP), push a message onto a list, and read a list until
// told to stop. One copy, so both sides reconnect, time out and expire their lists the same way.

import { createClient, type RedisClientType } from "redis";
import { AgentsError } from "../../errors.ts";
import { LIST_TTL_S } from "./protocol.ts";

const CONNECT_TIMEOUT_MS = 5_000;

export interface ClientPair {
  cmd: RedisClientType;
  /** BLPOP blocks its connection: a connection of its own. */
  reader: RedisClientType;
}

/**
 * Connect both, within 5 s, or throw an AgentsError naming `who`, the URL and the fix. `onError`
 * is attached to both before connecting and stays (node-redis's client.off() also dropped other
 * listeners, so listeners are never swapped); it hears connection errors then and later.
 */
export async function connectPair(
  url: string,
  who: string,
  onError: (e: Error) => void,
): Promise<ClientPair> {
  const cmd = createClient({
    url,
    // Reconnect after 50 ms, doubling up to 1 s (as the server's broker does).
    socket: { reconnectStrategy: (n: number) => Math.min(50 * 2 ** n, 1_000), connectTimeout: 2_000 },
  }) as RedisClientType;
  const reader = cmd.duplicate() as RedisClientType;
  let firstError = "";
  for (const c of [cmd, reader]) {
    c.on("error", (e: Error) => {
      firstError ||= e.message;
      onError(e);
    });
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.all([cmd.connect(), reader.connect()]),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(firstError || `no answer within ${CONNECT_TIMEOUT_MS / 1000} s`)),
          CONNECT_TIMEOUT_MS,
        );
      }),
    ]);
  } catch (error) {
    cmd.destroy();
    reader.destroy();
    throw new AgentsError(
      `${who}: cannot reach Redis at ${url} (${(error as Error).message}); start redis-server there, or fix the URL`,
    );
  } finally {
    clearTimeout(timer);
  }
  return { cmd, reader };
}

/** Append a message to a list (JSON) and renew the list's expiry; failures are dropped (the reader's liveness check reports a lost peer). */
export function pushMessage(cmd: RedisClientType, list: string, message: unknown): void {
  void cmd
    .multi()
    .rPush(list, JSON.stringify(message))
    .expire(list, LIST_TTL_S)
    .exec()
    .catch(() => {});
}

/**
 * Read a list's messages in order until `stopped()`: BLPOP with a 1 s timeout (so a stop is seen),
 * waiting out a reconnect when Redis is unreachable. `handle` gets each parsed message.
 */
export async function readMessages<T>(
  reader: RedisClientType,
  list: string,
  stopped: () => boolean,
  handle: (message: T) => void | Promise<void>,
): Promise<void> {
  while (!stopped()) {
    let popped: { key: string; element: string } | null;
    try {
      popped = await reader.blPop(list, 1);
    } catch {
      if (stopped()) return;
      await new Promise((r) => setTimeout(r, 200)); // reconnecting
      continue;
    }
    if (popped !== null) await handle(JSON.parse(popped.element) as T);
  }
}
