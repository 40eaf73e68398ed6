// Entry point of the reference server: flags → limits → listen → signals.
// Prints one line "longpoll-server listening on URL" when ready (the harness reads it to learn the port).
// Exit codes: 0 after a graceful shutdown, 2 for a bad flag, 1 if listening fails.

import { parseArgs } from "node:util";
import { createApp, DEFAULT_DEADLINES, DEFAULT_LIMITS, type ServerLimits } from "./app.ts";

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
    ...lines,
    "  --help                   show this help",
  ].join("\n");
}

class FlagError extends Error {}

function parseFlags(argv: string[]) {
  const options: Record<string, { type: "string" | "boolean" }> = {
    host: { type: "string" },
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
  const limits: Partial<ServerLimits> = {};
  for (const f of FLAGS) if (f.limit) limits[f.limit] = numbers[f.flag];
  return {
    help: values.help === true,
    host: (values.host as string | undefined) ?? "127.0.0.1",
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
  const server = createApp({
    limits: flags.limits,
    deadlines: flags.deadlines,
    faultWakeCostUs: flags.faultWakeCostUs,
  });
  if (flags.faultWakeCostUs > 0) {
    process.stderr.write(
      `longpoll-server: FAULT INJECTION ON: ${flags.faultWakeCostUs} µs of busy wait before every wake\n`,
    );
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    const parked = server.store.stats().waiters;
    process.stderr.write(
      `longpoll-server: ${signal}: answering ${parked} parked waiters with shutting_down\n`,
    );
    server.shutdown().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`longpoll-server: shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  try {
    const address = await server.listen({ host: flags.host, port: flags.port, backlog: flags.backlog });
    process.stdout.write(`longpoll-server listening on ${address} pid=${process.pid}\n`);
  } catch (error) {
    process.stderr.write(
      `longpoll-server: cannot listen on ${flags.host}:${flags.port}: ${(error as Error).message}\n`,
    );
    process.exit(1);
  }
}

await main();
