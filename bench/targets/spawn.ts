// Lifecycle of a target process started by the harness: spawn, wait for its ready line (which names
// its URL), notice if it dies, and stop it with SIGTERM (then SIGKILL). Works for any server that
// prints a line with its URL or port; the reference server and the peers use it.

import { spawn } from "node:child_process";
import { request } from "undici";
import { stopProcess } from "../child-process.ts";
import { TargetError } from "../errors.ts";
import type { ProtocolAdapter } from "./adapter.ts";
import { StatsClient, type StatsReader } from "./stats-client.ts";
import type { Target, TargetStats } from "./target.ts";

export interface SpawnSpec {
  name: string;
  command: string;
  args: string[];
  adapter: ProtocolAdapter;
  /**
   * How to know it is ready: a line on stdout or stderr whose group 1 is its URL; or, for a server
   * that prints nothing (nginx), the URL it was told to listen on, ready once it answers HTTP there.
   */
  readyPattern?: RegExp;
  readyUrl?: URL;
  /** How to read its figures; default: GET /stats (the reference server's format). */
  stats?: (url: URL) => StatsReader;
  /** How long to wait for the ready line. */
  startTimeoutMs?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

const STDERR_TAIL_BYTES = 4096;
const EXIT_GRACE_MS = 300;

export async function spawnTarget(spec: SpawnSpec): Promise<Target> {
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: spec.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let stopping = false;
  const tail = () => output.slice(-STDERR_TAIL_BYTES).trim();
  const exitDescription = (code: number | null, signal: NodeJS.Signals | null) =>
    `target "${spec.name}" (pid ${child.pid}) exited ${signal ? `on ${signal}` : `with code ${code}`}${tail() ? `; its output ends:\n${tail()}` : ""}`;

  const url = await new Promise<URL>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new TargetError(
          `target "${spec.name}" printed no ready line within ${spec.startTimeoutMs ?? 15_000} ms${tail() ? `; its output:\n${tail()}` : ""}`,
        ),
      );
    }, spec.startTimeoutMs ?? 15_000);
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString("utf8")).slice(-64 * 1024);
      const m = spec.readyPattern?.exec(output);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(new URL(m[1]));
      }
    };
    if (spec.readyUrl) {
      const readyUrl = spec.readyUrl;
      const probe = async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        try {
          const res = await request(readyUrl, { method: "GET", headersTimeout: 1_000 });
          await res.body.dump();
          clearTimeout(timer);
          resolve(readyUrl);
        } catch {
          setTimeout(probe, 50);
        }
      };
      setTimeout(probe, 50);
    }
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new TargetError(`cannot start target "${spec.name}" (${spec.command}): ${error.message}`));
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new TargetError(exitDescription(code, signal)));
    });
  });

  const died = new Promise<string>((resolve) => {
    child.once("exit", (code, signal) => {
      if (!stopping) resolve(exitDescription(code, signal));
    });
  });
  const statsClient = spec.stats ? spec.stats(url) : new StatsClient(url);
  return {
    name: spec.name,
    url,
    pid: child.pid,
    adapter: spec.adapter,
    stats: (gc?: boolean): Promise<TargetStats | undefined> => statsClient.read(gc),
    died,
    async checkGone() {
      // Its sockets close a moment before the exit is reaped: give the exit event a short while.
      const grace = new Promise<undefined>((r) => setTimeout(() => r(undefined), EXIT_GRACE_MS));
      return Promise.race([died, grace]);
    },
    async stop() {
      stopping = true;
      await statsClient.close();
      await stopProcess(child);
    },
  };
}
