// The Redis broker: values, versions and history in Redis (scripts.ts), shared by every process and
// host of the server; each process parks its own waiters in its parking lot and is woken through one
// pub/sub channel. node-redis (the `redis` package): one connection for commands, one subscribed.
//
// The race between a /get that finds nothing newer and a /set on another process: a /get is parked
// first and read second (ParkingLot.park, then the read script). The subscription is live before any
// waiter parks, so a /set that lands after the read is seen as a message, and one that lands before
// it is seen by the read; a message that arrives while the read is in flight is held by the waiter
// and settle() answers with the read's value if there is one (the oldest the cursor has not seen).
//
// Faults: commands are not queued while Redis is unreachable (disableOfflineQueue): a /set answers
// 503 broker_unavailable at once; parked waiters stay parked; a /get with a timeout parks and waits
// for the catch-up (timeout 0 answers broker_unavailable). When both connections are back (node-redis
// resubscribes before it reports ready), every parked waiter is read again, so a cursor misses
// nothing stored while this process was cut off; the version counter is first raised to the highest
// version this process has seen, so versions keep growing even if Redis lost its data.
//
// Batching (see scripts.ts for the measurements): the /sets of one event-loop turn go to Redis as one
// script call and come back as one published message; parked /gets' reads wait 1 ms to go together
// (a key and cursor read once). Both keep the order above: a waiter is parked before its read leaves.

import { ClientClosedError, ClientOfflineError, createClient, type RedisClientType } from "redis";
import {
  type Broker,
  type BrokerCounters,
  type BrokerLimits,
  type BrokerStats,
  type Deliver,
  type Found,
  type Outcome,
  type Waiter,
  zeroCounters,
} from "../broker.ts";
import { type Clock, systemClock } from "../clock.ts";
import { ParkingLot, refusal } from "../parking-lot.ts";
import {
  BROKER_UNAVAILABLE_MESSAGE,
  type ClearRequest,
  type GetRequest,
  ProtocolError,
  type SetRequest,
  SHUTTING_DOWN_MESSAGE,
} from "../protocol.ts";
import { ScriptRunner } from "./script-runner.ts";
import {
  CLEAR_SCRIPT,
  DEFAULT_PREFIX,
  type Layout,
  layout,
  parseEntry,
  parseNotifications,
  RAISE_SCRIPT,
  READ_SCRIPT,
  SET_SCRIPT,
  type SetItem,
  setCall,
} from "./scripts.ts";

export interface RedisBrokerOptions {
  /** redis://HOST:PORT[/DB] */
  url: string;
  limits: BrokerLimits;
  clock?: Clock;
  /** Key prefix, so several servers (or tests) can share one Redis. */
  prefix?: string;
  /** Where connection losses and recoveries are reported (stderr by default). */
  log?: (line: string) => void;
  /** How long the first connection may take. */
  connectTimeoutMs?: number;
}

/**
 * Reads wait this long to travel together (one script call, one write to Redis): a profile of one
 * server process put ~175 µs of CPU into node-redis per read sent alone (~50 µs of it the write
 * system call), and arrivals a few hundred µs apart seldom share an event-loop turn. It delays only
 * the park's read (an answer at once when a value is there), never a wake.
 */
const READ_WINDOW_MS = 1;
/** A read that failed while connected is tried again after this long. */
const READ_RETRY_MS = 100;
/** Reconnect after 50 ms, doubling up to 1 s: a restarted Redis is found again within a second. */
const reconnectDelay = (retries: number) => Math.min(50 * 2 ** retries, 1_000);

type Client = RedisClientType;

interface ReadGroup {
  key: string;
  since: number;
  waiters: Waiter[];
}

export class RedisBroker implements Broker {
  readonly kind = "redis";
  private readonly lot: ParkingLot;
  private readonly counters: BrokerCounters = zeroCounters();
  private closed = false;
  private readonly keys: Layout;
  private readonly clock: Clock;
  private readonly scripts: ScriptRunner;
  /** The highest version this process has seen (given out or published): the floor after a reconnect. */
  private maxSeen = 0;
  /** Was connected and then lost: the next full recovery catches up. */
  private lost = false;
  /** Connected and subscribed once: from then on losses are reported and recovered from. */
  private started = false;
  /** The first error while connecting, for the start-up message. */
  private firstError = "";
  /** Reads of the read window (READ_WINDOW_MS), sent as one script call. */
  private readBatch: Map<string, ReadGroup> | undefined;
  /** Sets of this turn, or of the time a call was in flight (see set()), sent as one script call. */
  private setBatch:
    | { item: SetItem; resolve: (r: { version: number }) => void; reject: (e: Error) => void }[]
    | undefined;
  private setsInFlight = false;

  private constructor(
    private readonly cmd: Client,
    private readonly sub: Client,
    private readonly options: RedisBrokerOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.lot = new ParkingLot(options.limits, this.clock, this.counters);
    this.keys = layout(options.prefix ?? DEFAULT_PREFIX);
    this.scripts = new ScriptRunner(cmd);
  }

  /** Connect both connections and subscribe; throws a clear error if Redis cannot be reached in time. */
  static async connect(options: RedisBrokerOptions): Promise<RedisBroker> {
    const cmd = createClient({
      url: options.url,
      disableOfflineQueue: true,
      socket: { reconnectStrategy: reconnectDelay, connectTimeout: 2_000 },
    }) as Client;
    const sub = cmd.duplicate() as Client;
    const broker = new RedisBroker(cmd, sub, options);
    const timeoutMs = options.connectTimeoutMs ?? 5_000;
    // The listeners stay for the broker's life: node-redis's client.off() also dropped the others.
    broker.watch(cmd, "commands");
    broker.watch(sub, "subscriber");
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.all([cmd.connect(), sub.connect()]),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(broker.firstError || "no answer")), timeoutMs);
        }),
      ]);
      await sub.subscribe(broker.keys.channel, (message: Buffer) => broker.onMessage(message), true);
    } catch (error) {
      cmd.destroy();
      sub.destroy();
      throw new Error(
        `cannot reach Redis at ${options.url} within ${timeoutMs} ms (${(error as Error).message}); start redis-server there or fix --redis`,
      );
    } finally {
      clearTimeout(timer);
    }
    broker.started = true;
    return broker;
  }

  get(req: GetRequest, deliver: Deliver, context?: unknown): Outcome | Waiter {
    this.counters.gets++;
    if (this.closed) throw refusal(this.counters, "shutting_down", SHUTTING_DOWN_MESSAGE);
    // With timeout 0 the waiter has no timer: settle() answers it whatever the read finds.
    const waiter = this.lot.park(req, deliver, context, { timed: req.timeoutS > 0, reading: true });
    this.read(req.key, waiter.since, [waiter]);
    return waiter;
  }

  cancel(waiter: Waiter): void {
    this.lot.cancel(waiter);
  }

  handOver(waiter: Waiter): GetRequest | undefined {
    return this.lot.handOver(waiter);
  }

  /**
   * Joins the next batch of sets (one script call, one published message; see scripts.ts). One call
   * of sets is in flight at a time: the sets of one event-loop turn go at its end, and sets that come
   * while a call is in flight wait for it and then go together ("group commit"). So a busy process
   * sends few large calls and an idle one waits for nothing. Why: a profile at ~12,000 /set a second
   * over 2 processes showed a script call for nearly every turn, each its own socket write and
   * reply, ~13% of a process's CPU in node-redis's write path alone.
   */
  set(req: SetRequest): Promise<{ version: number }> {
    this.counters.sets++;
    if (this.closed) throw refusal(this.counters, "shutting_down", SHUTTING_DOWN_MESSAGE);
    const item: SetItem = {
      key: req.key,
      value: req.value,
      ttlMs: Math.max(0, Math.round(req.expiredS * 1000)),
    };
    return new Promise((resolve, reject) => {
      if (this.setBatch === undefined) {
        this.setBatch = [];
        if (!this.setsInFlight) setImmediate(() => this.flushSets());
      }
      this.setBatch.push({ item, resolve, reject });
    });
  }

  private flushSets(): void {
    const batch = this.setBatch ?? [];
    this.setBatch = undefined;
    if (batch.length === 0) return;
    this.setsInFlight = true;
    const { keys, args } = setCall(
      this.keys,
      batch.map((b) => b.item),
      this.clock.now(),
      this.options.limits.maxHistory,
    );
    this.call(() => this.scripts.run(SET_SCRIPT, keys, args))
      .then(
        (reply) => {
          const versions = reply as number[];
          batch.forEach((b, i) => {
            const version = Number(versions[i]);
            this.seen(version);
            b.resolve({ version });
          });
        },
        (error: Error) => {
          for (const b of batch) b.reject(error);
        },
      )
      .finally(() => {
        this.setsInFlight = false;
        if (this.setBatch !== undefined) this.flushSets(); // the sets that waited, as one batch
      });
  }

  async clear(req: ClearRequest): Promise<{ cleared: number }> {
    this.counters.clears++;
    const cutoff = req.validBegin === undefined ? "all" : String(req.validBegin * 1000);
    return this.call(async () => {
      let cleared = 0;
      for await (const batch of this.cmd.scanIterator({ MATCH: this.keys.metaPattern, COUNT: 500 })) {
        const keys = batch as string[];
        if (keys.length > 0) cleared += Number(await this.scripts.run(CLEAR_SCRIPT, keys, [cutoff]));
      }
      return { cleared };
    });
  }

  async stats(): Promise<BrokerStats> {
    // values: absent, they are in Redis and not counted per request (a SCAN of every key)
    const s = { waiters: this.lot.count, keys: this.lot.keyCount, counters: { ...this.counters } };
    let version = this.maxSeen;
    try {
      if (this.connected()) version = Math.max(version, Number((await this.cmd.get(this.keys.version)) ?? 0));
    } catch {
      // unreachable now: the highest version seen here
    }
    return { ...s, version, broker: { kind: "redis", connected: this.connected() } };
  }

  parkedCount(): number {
    return this.lot.count;
  }

  /** Nothing expires here: values expire in Redis, and a key's waiters go with its last one. */
  sweepExpired(): number {
    return 0;
  }

  shutdown(): number {
    this.closed = true;
    return this.lot.shutdown();
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.sub.close(), this.cmd.close()]);
  }

  private connected(): boolean {
    return this.cmd.isReady && this.sub.isReady;
  }

  /**
   * Run a command; Redis unreachable (or failing) becomes a 503 broker_unavailable. The message says
   * whether the command reached Redis: one refused while offline was never sent, but one whose
   * connection dropped before the reply may have been carried out (a /set stored all the same).
   */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      const neverSent = error instanceof ClientOfflineError || error instanceof ClientClosedError;
      throw new ProtocolError(
        "broker_unavailable",
        `${BROKER_UNAVAILABLE_MESSAGE}: ${(error as Error).message}${neverSent ? " (not sent: nothing was changed)" : " (the connection was lost after the command was sent: it may have been carried out)"}`,
      );
    }
  }

  /**
   * Read the value a group of waiters (one key, one cursor) should get, and settle each: joins this
   * turn's batch of reads (one script call; a key and cursor read once however many ask).
   */
  private read(key: string, since: number, waiters: Waiter[]): void {
    for (const w of waiters) w.reading = true;
    if (this.readBatch === undefined) {
      this.readBatch = new Map();
      setTimeout(() => this.flushReads(), READ_WINDOW_MS);
    }
    const id = `${since}\u0000${key}`;
    const group = this.readBatch.get(id);
    if (group) group.waiters.push(...waiters);
    else this.readBatch.set(id, { key, since, waiters: [...waiters] });
  }

  private flushReads(): void {
    const groups = [...(this.readBatch ?? new Map<string, ReadGroup>()).values()];
    this.readBatch = undefined;
    const keys: string[] = [];
    const args = [String(this.clock.now())];
    for (const g of groups) {
      keys.push(this.keys.history(g.key), this.keys.meta(g.key));
      args.push(String(g.since));
    }
    this.scripts.run(READ_SCRIPT, keys, args).then(
      (reply) => {
        const results = reply as unknown[];
        groups.forEach((g, i) => {
          const found = this.found(g.key, results[i]);
          for (const w of g.waiters) this.lot.settle(w, found);
        });
      },
      () => {
        for (const g of groups) for (const w of g.waiters) this.lot.settle(w, undefined, true);
        // Failed while connected (a command timeout, Redis busy): no reconnect will bring the
        // catch-up, so read again soon for those still parked. (Unreachable: the catch-up will.)
        if (!this.connected()) return;
        setTimeout(() => {
          for (const g of groups) {
            const still = g.waiters.filter((w) => this.lot.isParked(w) && !w.reading);
            if (still.length > 0) this.read(g.key, g.since, still);
          }
        }, READ_RETRY_MS);
      },
    );
  }

  private found(key: string, reply: unknown): Found | undefined {
    if (!Array.isArray(reply)) return undefined;
    const { version, value } = parseEntry(String(reply[0]));
    this.seen(version);
    return { notification: { key, value, version }, compacted: Number(reply[1]) === 1 };
  }

  private onMessage(message: Buffer): void {
    const batch = parseNotifications(message);
    if (batch === undefined) return; // not ours (another writer on the channel)
    for (const n of batch) {
      this.seen(n.version);
      this.lot.wake(n);
    }
  }

  private seen(version: number): void {
    if (version > this.maxSeen) this.maxSeen = version;
  }

  /** Report a lost connection once; when both are back, catch up. */
  private watch(client: Client, role: string): void {
    const log = this.options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    let down = false;
    client.on("error", (error: Error) => {
      if (!this.started) {
        this.firstError ||= error.message;
        return;
      }
      if (down) return;
      down = true;
      this.lost = true;
      log(`longpoll-server: redis ${role} connection lost (${error.message}); reconnecting`);
    });
    client.on("ready", () => {
      if (down) log(`longpoll-server: redis ${role} connection back`);
      down = false;
      if (this.lost && this.connected()) {
        this.lost = false;
        void this.catchUp(log);
      }
    });
  }

  /** Both connections are back: raise the version floor, then read again for every parked waiter. */
  private async catchUp(log: (line: string) => void): Promise<void> {
    try {
      await this.scripts.run(RAISE_SCRIPT, [this.keys.version], [String(this.maxSeen)]);
    } catch {
      this.lost = true; // lost again: the next recovery retries
      return;
    }
    // read() joins them into one batch, one read per key and cursor however many waiters share them.
    let count = 0;
    for (const w of this.lot.parkedWaiters()) {
      this.read(w.key, w.since, [w]);
      count++;
    }
    log(`longpoll-server: redis back; reading again for ${count} parked waiters`);
  }
}
