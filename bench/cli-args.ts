// The bench command line: flags → frozen, typed options. Every problem is a UsageError (exit 2)
// naming the flag and the fix. Knows nothing of running.

import { parseArgs } from "node:util";
import { UsageError } from "./errors.ts";

export interface BenchOptions {
  help: boolean;
  list: boolean;
  files: string[];
  suite: string | undefined;
  out: string | undefined;
  target: string | undefined;
  /** Named targets the harness starts itself (--targets). */
  targets: string[];
  referenceArgs: string[];
  workers: number | undefined;
  repeat: number;
  quiet: boolean;
}

export const BENCH_USAGE = `usage: npm run bench -- [scenario files...] [flags]

Runs long-poll scenarios against a target and writes results/<run-id>/ (run.json, summary.csv,
latency-*.csv, timeseries-*.csv, *.hlog). With no files, runs the default suite against the
reference server, which it starts itself.

  --suite NAME     run the scenarios of scenarios/suites/NAME.json (default: default)
  --list           list the scenarios and suites, then exit
  --out DIR        write the results into DIR (new or empty; default results/<run-id>)
  --target URL     attach to a server already running at URL instead of starting the reference
  --targets A,B    start and run against each named target in turn (default: reference);
                   known: reference, node-http, tornado, nchan (see --list); reference@DIR
                   runs another checkout's server (e.g. the commit before a change)
  --reference-args="FLAGS"
                   extra flags for the reference server, e.g. --reference-args="--fault-wake-cost-us 50"
                   (fault injection, for testing the regression gate only)
  --workers N      driver worker processes (default: one per 15,000 waiters)
  --repeat N       run every scenario N times, all kept in the results (default 1)
  --quiet          no progress on stderr
  --help           show this help

Exit codes: 0 ok, 2 invalid scenario or arguments, 3 target failed, 4 host limits too low,
5 interrupted, 70 internal error.`;

function positiveInt(flag: string, raw: string | undefined, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new UsageError(`--${flag} must be a whole number from 1 to ${max}, got "${raw}"`);
  }
  return n;
}

export function parseBenchArgs(argv: string[]): Readonly<BenchOptions> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: "boolean" },
        list: { type: "boolean" },
        quiet: { type: "boolean" },
        suite: { type: "string" },
        out: { type: "string" },
        target: { type: "string" },
        targets: { type: "string" },
        "reference-args": { type: "string" },
        workers: { type: "string" },
        repeat: { type: "string" },
      },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}; see --help`);
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  const target = v.target as string | undefined;
  if (target !== undefined) {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      throw new UsageError(`--target must be a URL like http://127.0.0.1:8888, got "${target}"`);
    }
    if (url.protocol !== "http:") throw new UsageError(`--target must be an http:// URL, got "${target}"`);
    if (!isLoopback(url.hostname)) {
      throw new UsageError(
        `--target ${url.hostname} is not a loopback address: this harness sends load only to 127.0.0.0/8 or ::1`,
      );
    }
  }
  const targets = ((v.targets as string | undefined) ?? "")
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean);
  if (target !== undefined && targets.length > 0)
    throw new UsageError("give --target URL or --targets NAMES, not both");
  const files = parsed.positionals;
  if (files.length > 0 && v.suite !== undefined) {
    throw new UsageError("give scenario files or --suite, not both");
  }
  return Object.freeze({
    help: v.help === true,
    list: v.list === true,
    quiet: v.quiet === true,
    files,
    suite: v.suite as string | undefined,
    out: v.out as string | undefined,
    target,
    targets: targets.length > 0 ? targets : target === undefined ? ["reference"] : [],
    referenceArgs: ((v["reference-args"] as string | undefined) ?? "").split(/\s+/).filter(Boolean),
    workers: positiveInt("workers", v.workers as string | undefined, 64),
    repeat: positiveInt("repeat", v.repeat as string | undefined, 100) ?? 1,
  });
}

export function isLoopback(hostname: string): boolean {
  return (
    hostname === "localhost" ||
    hostname === "[::1]" ||
    hostname === "::1" ||
    /^127\.\d+\.\d+\.\d+$/.test(hostname)
  );
}
