// Flag parsing for every command: one wrapper over node:util parseArgs that turns every problem into
// a UsageError (exit 2) naming the flag and the fix, the number rules, and the flags that bench and
// the gate share. Knows nothing of running.

import { type ParseArgsConfig, parseArgs } from "node:util";
import { SCHED_POLICIES, type SchedPolicy } from "../child-process.ts";
import { type CpuPlacement, isLoopback, type TargetSelection } from "../core/choices.ts";
import { closest } from "../core/did-you-mean.ts";
import { type FieldOverride, parseOverride } from "../core/scenario.ts";
import { TRANSPORTS, type Transport } from "../core/targets/transports.ts";
import { parseThresholdFlag, type Threshold } from "../core/verdict/thresholds.ts";
import { MAX_WARMUP_WAITERS } from "../core/warmup.ts";
import { UsageError } from "../errors.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Parse strictly; unknown flags and missing values are usage errors. */
export function parseFlags(
  argv: string[],
  options: Options,
): {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
} {
  try {
    const parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options });
    return {
      values: parsed.values as Record<string, string | boolean | undefined>,
      positionals: parsed.positionals,
    };
  } catch (error) {
    const e = error as Error & { code?: string };
    const unknown = /^Unknown option '(-{1,2}[^']+)'/.exec(e.message)?.[1];
    if (e.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && unknown !== undefined) {
      const flags = Object.keys(options).map((f) => `--${f}`);
      const near = closest(unknown, flags);
      throw new UsageError(`unknown flag ${unknown}${near ? `; did you mean ${near}?` : ""} (see --help)`);
    }
    throw new UsageError(`${e.message}; see --help`);
  }
}

export function positiveInt(
  flag: string,
  raw: string | boolean | string[] | undefined,
  max: number,
): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (typeof raw !== "string" || !Number.isInteger(n) || n < 1 || n > max) {
    throw new UsageError(`--${flag} must be a whole number from 1 to ${max}, got "${String(raw)}"`);
  }
  return n;
}

/** The flags of every command that runs scenarios (bench and the gate). */
export const RUN_FLAGS = {
  help: { type: "boolean", short: "h" },
  quiet: { type: "boolean", short: "q" },
  out: { type: "string", short: "o" },
  "reference-args": { type: "string" },
  workers: { type: "string", short: "w" },
  repeat: { type: "string", short: "r" },
  cpus: { type: "string" },
  "driver-sched": { type: "string" },
} as const satisfies Options;

/** Where the target and the driver run: CPU lists for taskset (e.g. target=0,driver=1). */
/** `--cpus target=0,driver=1` or `target=0-1,driver=2-3`: CPU lists as taskset takes them. */
export function parseCpus(raw: string | undefined): CpuPlacement | undefined {
  if (raw === undefined) return undefined;
  const placement: CpuPlacement = {};
  // "target=0,driver=1": split on commas that start a new name=.
  for (const part of raw.split(/,(?=[a-z]+=)/)) {
    const m = /^(target|driver)=(\d+(?:-\d+)?(?:,\d+(?:-\d+)?)*)$/.exec(part.trim());
    if (!m) {
      throw new UsageError(
        `--cpus takes target=LIST,driver=LIST with CPU lists as taskset takes them (e.g. --cpus target=0,driver=1), got "${raw}"`,
      );
    }
    placement[m[1] as "target" | "driver"] = m[2] as string;
  }
  return placement;
}

export interface RunFlags {
  help: boolean;
  quiet: boolean;
  out: string | undefined;
  referenceArgs: string[];
  workers: number | undefined;
  /** Undefined when not given (each command has its own default). */
  repeat: number | undefined;
  /** Pinning of the target and the driver workers to CPUs (--cpus); none by default. */
  cpus: CpuPlacement | undefined;
  /** The driver workers' scheduling policy (--driver-sched); undefined: the command's default. */
  driverSched: SchedPolicy | undefined;
}

export function readRunFlags(v: Record<string, string | boolean | string[] | undefined>): RunFlags {
  return {
    help: v.help === true,
    quiet: v.quiet === true,
    out: v.out as string | undefined,
    referenceArgs: ((v["reference-args"] as string | undefined) ?? "").split(/\s+/).filter(Boolean),
    workers: positiveInt("workers", v.workers, 64),
    repeat: positiveInt("repeat", v.repeat, 100),
    cpus: parseCpus(v.cpus as string | undefined),
    driverSched: parseDriverSched(v["driver-sched"] as string | undefined),
  };
}

/** `--driver-sched batch|normal`. */
export function parseDriverSched(raw: string | undefined): SchedPolicy | undefined {
  if (raw === undefined) return undefined;
  if ((SCHED_POLICIES as readonly string[]).includes(raw)) return raw as SchedPolicy;
  throw new UsageError(
    `--driver-sched takes ${SCHED_POLICIES.join(" or ")} (the driver workers' Linux scheduling policy), got "${raw}"`,
  );
}

/** Which targets a run uses: one attached URL (with its profile), or named ones and target files. */
export interface BenchOptions extends RunFlags, TargetSelection {
  list: boolean;
  version: boolean;
  /** Scenario files or names (scenarios/<name>.json). */
  files: string[];
  suite: string | undefined;
  repeat: number;
  /** Scenario fields set on the command line (--set path=value), for every scenario of the run. */
  overrides: FieldOverride[];
  /** Print a JSON summary on stdout instead of the tables (for scripts). */
  json: boolean;
  /** Every column of the summary table (default: the ones that fit 120 columns). */
  wide: boolean;
  /** Load from agents coordinated through this Redis (--agents URL); undefined: a local driver. */
  agents: string | undefined;
  /** Live agents needed before any load is sent (--min-agents, default 1). */
  minAgents: number;
  /** Waiters that warm each target up before its measured phases (--warmup); 0: none. */
  warmup: number;
  /** Pass/fail conditions from the command line (--threshold, repeatable). */
  thresholds: Threshold[];
  /** Print the metric catalogue and exit (--list-metrics). */
  listMetrics: boolean;
}

export const BENCH_USAGE = `usage: npm run bench -- [scenarios...] [flags]     (or: npx longpoll-bench ...)

Runs long-poll scenarios against a target and writes results/<run-id>/ (run.json, summary.csv,
latency-*.csv, timeseries-*.csv, *.hlog, report.html). A scenario is a file or the name of one in
scenarios/ (e.g. fanout-1k). With none, runs the default suite against the reference server, which
it starts itself.

  -s, --suite NAME   run the scenarios of scenarios/suites/NAME.json (default: default)
  -l, --list         list the scenarios, suites and targets, then exit
  -o, --out DIR      write the results into DIR (new or empty; default results/<run-id>)
  --set PATH=VALUE   set a scenario field for this run, e.g. --set waiters=20000 or
                     --set arrival.window_ms=500 (repeatable; validated as the file is)
  --target URL     attach to a server already running at URL instead of starting the reference
  --profile P      the protocol of --target: a built-in profile (seed, nchan) or a profile file
                   (default seed; see docs/own-server.md)
  --transports A,B run every target over each of these transports: long-poll, sse, websocket
                   (one cell per target and transport, named TARGET/TRANSPORT; a profile's
                   "transports" say what a server offers; docs/transports.md). Without it, a
                   scenario's "transport" field (--set transport=sse), else long-poll
  -t, --targets A,B  start and run against each named target in turn (default: reference);
                   known: reference, node-http, tornado, nchan, and on several processes
                   reference-cluster, nchan-workers, nchan-redis (see --list); reference@DIR
                   runs another checkout's server (e.g. the commit before a change); a path
                   ending in .json is a target file (your server: a command or URL + profile)
  --allow-remote   allow a target that is not on loopback (its /proc figures are unavailable)
  --no-proc        do not sample an attached target's process from /proc (by default, on
                   loopback, the process listening on its port is found and sampled)
  --reference-args="FLAGS"
                   extra flags for the reference server, e.g. --reference-args="--fault-wake-cost-us 50"
                   (fault injection, for testing the regression gate only)
  --cpus target=0,driver=1
                   pin the target (its whole process tree) and the driver workers to these CPUs
                   (taskset lists); recorded in run.json. Default: not pinned
  --driver-sched batch|normal
                   the driver workers' Linux scheduling policy (chrt). batch (default): a worker
                   woken by an answer does not preempt the target on a shared CPU, it reads when a
                   CPU is free (docs/running.md); normal: as any process.
                   Recorded in run.json; normal where chrt is missing
  --warmup N       before each run's measured phases, N waiters park on a key of their own, one
                   set wakes them, they leave: the target's code is warm (a JIT server's first
                   thousands of requests run unoptimised). Default 0: measured cold
  -w, --workers N  driver worker processes (default: one per 5,000 waiters, up to the cores, and
                   at least one per 15,000)
  -r, --repeat N   run every scenario N times, all kept in the results (default 1)
  --threshold [SCENARIO][@TARGET]:METRIC<LIMIT
                   a pass/fail condition, judged on the median over repeats (repeatable), e.g.
                   --threshold 'fanout-10k:latency_p99_ms<500' or 'latency_p99_ms<500' (every
                   scenario); operators < <= > >= ==; METRIC:off lifts one. By default every
                   correctness figure (lost, duplicates, errors, ...) must be 0 (docs/verdicts.md)
  --list-metrics   list every metric (name, unit, which way is better, kind), then exit
  --agents URL     drive the load from agents (npm run agent -- --redis URL on each load machine)
                   coordinated through the Redis at URL; histograms merged exactly
  --min-agents N   live agents needed before any load is sent (default 1)
  --wide           every column in the summary table (default: those that fit 120 columns)
  --json           a JSON summary on stdout instead of the tables (for scripts)
  -q, --quiet      no progress on stderr
  -V, --version    print the version
  -h, --help       show this help

Exit codes: 0 ok, 2 invalid scenario or arguments, 3 target failed, 4 host limits too low,
5 interrupted, 6 load agents too few or one lost mid-run, 7 a threshold failed (everything was
measured and written), 70 internal error.`;

export function parseBenchArgs(argv: string[]): Readonly<BenchOptions> {
  const { values: v, positionals } = parseFlags(argv, {
    ...RUN_FLAGS,
    list: { type: "boolean", short: "l" },
    version: { type: "boolean", short: "V" },
    suite: { type: "string", short: "s" },
    target: { type: "string" },
    targets: { type: "string", short: "t" },
    profile: { type: "string" },
    "allow-remote": { type: "boolean" },
    set: { type: "string", multiple: true },
    json: { type: "boolean" },
    wide: { type: "boolean" },
    agents: { type: "string" },
    "min-agents": { type: "string" },
    warmup: { type: "string" },
    threshold: { type: "string", multiple: true },
    "list-metrics": { type: "boolean" },
    "no-proc": { type: "boolean" },
    transports: { type: "string" },
  });
  const agents = v.agents as string | undefined;
  if (agents !== undefined && !/^rediss?:\/\/./.test(agents))
    throw new UsageError(
      `--agents takes the coordinating Redis's URL, like redis://127.0.0.1:6379, got "${agents}"`,
    );
  if (v["min-agents"] !== undefined && agents === undefined)
    throw new UsageError("--min-agents goes with --agents URL");
  if (agents !== undefined && typeof v.cpus === "string" && /driver=/.test(v.cpus))
    throw new UsageError(
      "--cpus driver=... pins driver workers on this host; with --agents they run on the agents",
    );
  if (agents !== undefined && v["driver-sched"] !== undefined)
    throw new UsageError(
      "--driver-sched sets the policy of driver workers on this host; with --agents they run on the agents",
    );
  const overrides = ((v.set as unknown as string[] | undefined) ?? []).map((text) => {
    const o = parseOverride(text);
    if (!o)
      throw new UsageError(
        `--set takes PATH=VALUE with a field path such as waiters or arrival.window_ms, got "${text}"`,
      );
    return o;
  });
  const run = readRunFlags(v);
  const target = v.target as string | undefined;
  const profile = v.profile as string | undefined;
  if (profile !== undefined && target === undefined)
    throw new UsageError("--profile is the protocol of --target URL; a target file names its own profile");
  const targets = ((v.targets as string | undefined) ?? "")
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean);
  if (target !== undefined && targets.length > 0)
    throw new UsageError("give --target URL or --targets NAMES, not both");
  if (positionals.length > 0 && v.suite !== undefined) {
    throw new UsageError("give scenario files or --suite, not both");
  }
  return Object.freeze({
    ...run,
    list: v.list === true,
    version: v.version === true,
    json: v.json === true,
    wide: v.wide === true,
    overrides,
    files: positionals,
    suite: v.suite as string | undefined,
    target,
    profile,
    allowRemote: v["allow-remote"] === true,
    noProc: v["no-proc"] === true,
    agents,
    minAgents: positiveInt("min-agents", v["min-agents"] as string | undefined, 1000) ?? 1,
    warmup:
      v.warmup === "0" ? 0 : (positiveInt("warmup", v.warmup as string | undefined, MAX_WARMUP_WAITERS) ?? 0),
    thresholds: ((v.threshold as unknown as string[] | undefined) ?? []).map(parseThresholdFlag),
    listMetrics: v["list-metrics"] === true,
    transports: parseTransports(v.transports as string | undefined),
    targets: targets.length > 0 ? targets : target === undefined ? ["reference"] : [],
    repeat: run.repeat ?? 1,
  });
}

/** --transports A,B: known names, each once, in the order given. */
function parseTransports(text: string | undefined): Transport[] | undefined {
  if (text === undefined) return undefined;
  const names = text
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean);
  if (names.length === 0) throw new UsageError("--transports takes a list such as long-poll,sse,websocket");
  for (const name of names) {
    if (!(TRANSPORTS as readonly string[]).includes(name)) {
      const near = closest(name, [...TRANSPORTS]);
      throw new UsageError(
        `--transports: unknown transport "${name}"${near ? ` (did you mean ${near}?)` : ""}; known: ${TRANSPORTS.join(", ")}`,
      );
    }
  }
  if (new Set(names).size !== names.length)
    throw new UsageError(`--transports names a transport twice: ${text}`);
  return names as Transport[];
}

export { type CpuPlacement, isLoopback, type TargetSelection };
