// Entry point of the reference server: flags → limits → broker → listen → signals.
// Prints one line "longpoll-server listening on URL" when ready (the harness reads it to learn the port).
// Exit codes: 0 after a graceful shutdown, 2 for a bad flag, 1 if listening (or reaching Redis) fails.
// With --processes N (N > 1) this process is the cluster's primary (cluster.ts) and each worker runs
// this file again as one process of the server.

import cluster from "node:cluster";
import { parseArgs } from "node:util";
import { createApp, DEFAULT_DEADLINES, DEFAULT_LIMITS, processResources, type ServerLimits } from "./app.ts";
import { type Balance, serveWorker, startPrimary } from "./cluster.ts";
import type { RedisBroker } from "./redis/redis-broker.ts";
import { DEFAULT_PREFIX } from "./redis/scripts.ts";

/** Flags that take fractions of a second; the others are whole numbers. */
const FRACTIONAL = new Set(["max-timeout", "header-timeout", "request-timeout"]);

interface FlagSpec {
  flag: string;
  help: string;
  default: string;
  /** Which limit it sets, when it is a limit. */
  limit?: keyof ServerLimits;
  /** Smallest allowed value. */
  min: number;
}

const FLAGS: FlagSpec[] = [
  { flag: "port", help: "TCP port to listen on (0: any free port)", default: "8888", min: 0 },
  {
    flag: "processes",
    help: "server processes sharing the port (node:cluster); more than 1 needs --redis",
    default: "1",
    min: 1,
  },
  {
    flag: "backlog",
    help: "listen queue length; the kernel caps it at net.core.somaxconn (Node's own default is 511)",
    default: "16384",
    min: 1,
  },
  {
    flag: "max-key-bytes",
    help: "longest key",
    default: String(DEFAULT_LIMITS.maxKeyBytes),
    limit: "maxKeyBytes",
    min: 1,
  },
  {
    flag: "max-value-bytes",
    help: "largest value",
    default: String(DEFAULT_LIMITS.maxValueBytes),
    limit: "maxValueBytes",
    min: 1,
  },
  {
    flag: "max-body-bytes",
    help: "largest request body",
    default: String(DEFAULT_LIMITS.maxBodyBytes),
    limit: "maxBodyBytes",
    min: 1,
  },
  {
    flag: "max-waiters",
    help: "parked /get requests in total",
    default: String(DEFAULT_LIMITS.maxWaiters),
    limit: "maxWaiters",
    min: 0,
  },
  {
    flag: "max-waiters-per-key",
    help: "parked /get requests on one key",
    default: String(DEFAULT_LIMITS.maxWaitersPerKey),
    limit: "maxWaitersPerKey",
    min: 0,
  },
  {
    flag: "max-keys",
    help: "keys held (with a value or waiters)",
    default: String(DEFAULT_LIMITS.maxKeys),
    limit: "maxKeys",
    min: 1,
  },
  {
    flag: "history",
    help: "recent values kept per key for the since cursor",
    default: String(DEFAULT_LIMITS.maxHistory),
    limit: "maxHistory",
    min: 1,
  },
  {
    flag: "max-timeout",
    help: "seconds; larger /get timeouts are clamped to it",
    default: String(DEFAULT_LIMITS.maxTimeoutS),
    limit: "maxTimeoutS",
    min: 0,
  },
  {
    flag: "header-timeout",
    help: "seconds a request head may take from its first byte; then 408 and the connection closed",
    default: String(DEFAULT_DEADLINES.headersMs / 1000),
    min: 0.001,
  },
  {
    flag: "request-timeout",
    help: "seconds a whole request (head and body) may take from its first byte; then 408",
    default: String(DEFAULT_DEADLINES.requestMs / 1000),
    min: 0.001,
  },
  {
    flag: "fault-wake-cost-us",
    help: "FOR TESTING THE REGRESSION GATE ONLY: busy-wait this many µs before each wake",
    default: "0",
    min: 0,
  },
];

function usage(): string {
  const lines = FLAGS.map((f) => `  --${f.flag.padEnd(22)} ${f.help} (default ${f.default})`);
  return [
    "usage: npm run server -- [flags]",
    "",
    "The longpoll-bench reference long-poll server: POST /get, /set, /clear; GET /stats, /healthz.",
    "",
    "  --host HOST              address to listen on (default 127.0.0.1)",
    "  --redis URL              keep values in Redis (redis://HOST:PORT), shared by every process and host;",
    "                           default: in this process's memory",
    `  --redis-prefix TEXT      prefix of every Redis key and channel (default ${DEFAULT_PREFIX})`,
    "  --balance kernel|round-robin",
    "                           with --processes: who deals connections to the processes: the kernel",
    "                           (default; they share the listening socket) or the primary, in turn",
    ...lines,
    "  --help                   show this help",
  ].join("\n");
}

class FlagError extends Error {}

function parseFlags(argv: string[]) {
  const options: Record<string, { type: "string" | "boolean" }> = {
    host: { type: "string" },
    redis: { type: "string" },
    balance: { type: "string" },
    "redis-prefix": { type: "string" },
    help: { type: "boolean" },
  };
  for (const f of FLAGS) options[f.flag] = { type: "string" };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  } catch (error) {
    throw new FlagError(`${(error as Error).message}; see --help`);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const numbers: Record<string, number> = {};
  for (const f of FLAGS) {
    const raw = (values[f.flag] as string | undefined) ?? f.default;
    const n = Number(raw);
    if (
      raw.trim() === "" ||
      !Number.isFinite(n) ||
      n < f.min ||
      (!FRACTIONAL.has(f.flag) && !Number.isInteger(n))
    ) {
      throw new FlagError(
        `--${f.flag} must be a number >= ${f.min}${FRACTIONAL.has(f.flag) ? "" : " (an integer)"}, got "${raw}"`,
      );
    }
    numbers[f.flag] = n;
  }
  const redis = values.redis as string | undefined;
  if (redis !== undefined && !/^rediss?:\/\/./.test(redis)) {
    throw new FlagError(`--redis must be a URL like redis://127.0.0.1:6379, got "${redis}"`);
  }
  const processes = numbers.processes ?? 1;
  if (processes > 1 && redis === undefined) {
    throw new FlagError(
      `--processes ${processes} needs --redis URL: the in-memory broker lives in one process, so several processes share values through Redis`,
    );
  }
  const balance = (values.balance as string | undefined) ?? "kernel";
  if (balance !== "kernel" && balance !== "round-robin") {
    throw new FlagError(`--balance must be kernel or round-robin, got "${balance}"`);
  }
  const limits: Partial<ServerLimits> = {};
  for (const f of FLAGS) if (f.limit) limits[f.limit] = numbers[f.flag];
  return {
    help: values.help === true,
    host: (values.host as string | undefined) ?? "127.0.0.1",
    redis,
    redisPrefix: (values["redis-prefix"] as string | undefined) ?? DEFAULT_PREFIX,
    processes,
    balance: balance as Balance,
    port: numbers.port ?? 8888,
    backlog: numbers.backlog ?? 16384,
    faultWakeCostUs: numbers["fault-wake-cost-us"] ?? 0,
    deadlines: {
      headersMs: (numbers["header-timeout"] ?? 10) * 1000,
      requestMs: (numbers["request-timeout"] ?? 30) * 1000,
    },
    limits,
  };
}

async function main(): Promise<void> {
  let flags: ReturnType<typeof parseFlags>;
  try {
    flags = parseFlags(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof FlagError)) throw error;
    process.stderr.write(`longpoll-server: ${error.message}\n`);
    process.exit(2);
  }
  if (flags.help) {
    process.stdout.write(`${usage()}\n`);
    return;
  }
  const log = (line: string) => process.stderr.write(`${line}\n`);
  if (cluster.isPrimary && flags.processes > 1) {
    try {
      const url = await startPrimary({
        processes: flags.processes,
        balance: flags.balance,
        log,
        ownResources: processResources,
      });
      process.stdout.write(
        `longpoll-server listening on ${url} pid=${process.pid} processes=${flags.processes} redis=${flags.redis}\n`,
      );
    } catch (error) {
      log(`longpoll-server: ${(error as Error).message}`);
      process.exit(1);
    }
    return;
  }
  let broker: RedisBroker | undefined;
  if (flags.redis !== undefined) {
    try {
      // Loaded only with --redis: node-redis at start-up shifted the one-process server's heap
      // figures (the CI gate's heap per waiter moved ×2.8 in 2 of 3 runs with it merely imported).
      const { RedisBroker } = await import("./redis/redis-broker.ts");
      broker = await RedisBroker.connect({
        url: flags.redis,
        prefix: flags.redisPrefix,
        limits: { ...DEFAULT_LIMITS, ...flags.limits },
        log,
      });
    } catch (error) {
      log(`longpoll-server: ${(error as Error).message}`);
      process.exit(1);
    }
  }
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    log(
      `longpoll-server: ${why}: answering ${server.broker.parkedCount()} parked waiters with shutting_down`,
    );
    server.shutdown().then(
      () => process.exit(0),
      (error: unknown) => {
        log(`longpoll-server: shutdown failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  // A worker of several processes answers for the whole server through the primary (cluster.ts).
  const worker = cluster.isWorker
    ? serveWorker({ ownStats: (gc) => server.ownStats(gc), shutdown: () => stop("shutdown") })
    : undefined;
  const server = createApp({
    limits: flags.limits,
    deadlines: flags.deadlines,
    faultWakeCostUs: flags.faultWakeCostUs,
    broker,
    serverStats: worker?.serverStats,
  });
  if (flags.faultWakeCostUs > 0 && !cluster.isWorker) {
    log(`longpoll-server: FAULT INJECTION ON: ${flags.faultWakeCostUs} µs of busy wait before every wake`);
  }
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  try {
    const address = await server.listen({ host: flags.host, port: flags.port, backlog: flags.backlog });
    if (worker) worker.listening(address);
    else process.stdout.write(`longpoll-server listening on ${address} pid=${process.pid}\n`);
  } catch (error) {
    log(`longpoll-server: cannot listen on ${flags.host}:${flags.port}: ${(error as Error).message}`);
    process.exit(1);
  }
}

await main();
