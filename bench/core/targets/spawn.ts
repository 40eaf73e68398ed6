// Lifecycle of a target process started by the harness: spawn, wait until it is ready (a line naming
// its URL, a URL answering 2xx, or a port accepting connections), notice if it dies, and stop it
// with SIGTERM (then SIGKILL after a grace period). The reference server, the peers and users'
// command targets all start here. A user's command runs in its own process group, so stopping it
// stops every process it started, and its whole process tree is sampled from /proc.

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { request } from "undici";
import { stopProcess } from "../../child-process.ts";
import { TargetError } from "../../errors.ts";
import { readProcess, readProcessTree } from "../metrics/proc.ts";
import type { Profile } from "./profile.ts";
import { adapterFromProfile } from "./profile-adapter.ts";
import { ProfileStats } from "./stats-client.ts";
import type { Target, TargetStats } from "./target.ts";

/** How to know a started target is ready. */
export type Readiness =
  /** A line on stdout or stderr matches: its group 1 is the URL, unless the URL is given. */
  | { kind: "line"; pattern: RegExp; url?: URL }
  /** This URL answers (2xx only when `ok2xx`; any HTTP answer otherwise). */
  | { kind: "url"; url: URL; ok2xx: boolean }
  /** A TCP connection to the URL's host and port succeeds. */
  | { kind: "port"; url: URL };

export interface SpawnSpec {
  name: string;
  command: string;
  args: string[];
  profile: Profile;
  ready: Readiness;
  /** How long to wait for readiness. */
  startTimeoutMs?: number;
  /** SIGTERM, then SIGKILL after this long. */
  stopGraceMs?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Run in its own process group and sample its whole process tree (a user's command). */
  group?: boolean;
  /** Called with the output kept so far when the target fails (start or mid-run), e.g. to keep it in the run folder. */
  onFailureOutput?: (output: string) => void;
}

const OUTPUT_TAIL_BYTES = 4096;
const OUTPUT_KEPT_BYTES = 64 * 1024;
const EXIT_GRACE_MS = 300;
const READY_POLL_MS = 50;

function tcpOpen(url: URL): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port) });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function answers(url: URL, ok2xx: boolean): Promise<boolean> {
  try {
    const res = await request(url, { method: "GET", headersTimeout: 1_000 });
    await res.body.dump();
    return !ok2xx || (res.statusCode >= 200 && res.statusCode < 300);
  } catch {
    return false;
  }
}

/**
 * util-linux's setpriv (Debian: always installed) sets the parent-death signal and then execs the
 * command (same pid): if the harness dies, even by SIGKILL, the kernel sends the target SIGTERM, so
 * no server it started outlives it. Where it is missing, targets are stopped by the harness only.
 */
const SETPRIV = "/usr/bin/setpriv";
const canSetPdeathsig = existsSync(SETPRIV);

export async function spawnTarget(spec: SpawnSpec): Promise<Target> {
  const [command, args] = canSetPdeathsig
    ? [SETPRIV, ["--pdeathsig", "TERM", "--", spec.command, ...spec.args]]
    : [spec.command, spec.args];
  const child = spawn(command, args, {
    cwd: spec.cwd,
    env: spec.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, always: a Ctrl-C at the terminal reaches the harness alone, which stops
    // the target itself (a target that died of the same SIGINT read as a target failure). With
    // setpriv, the harness's death still takes it down (parent-death signal, above); without it,
    // only a group target has its own (the terminal's signals are then its way down).
    detached: canSetPdeathsig || spec.group === true,
  });
  let output = "";
  let stopping = false;
  const tail = () => output.slice(-OUTPUT_TAIL_BYTES).trim();
  const keepOutput = () => spec.onFailureOutput?.(output);
  const exitDescription = (code: number | null, signal: NodeJS.Signals | null) =>
    `target "${spec.name}" (pid ${child.pid}) exited ${signal ? `on ${signal}` : `with code ${code}`}${tail() ? `; its output ends:\n${tail()}` : ""}`;
  child.stdout?.on("data", (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-OUTPUT_KEPT_BYTES);
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-OUTPUT_KEPT_BYTES);
  });
  const timeoutMs = spec.startTimeoutMs ?? 15_000;

  const url = await new Promise<URL>((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | undefined, value?: URL) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        keepOutput();
        reject(error);
      } else resolve(value as URL);
    };
    const timer = setTimeout(() => {
      killGroup(child, spec.group === true, "SIGKILL");
      finish(
        new TargetError(
          `target "${spec.name}" was not ready within ${timeoutMs} ms (${describeReadiness(spec.ready)})${tail() ? `; its output:\n${tail()}` : ""}`,
        ),
      );
    }, timeoutMs);
    const ready = spec.ready;
    if (ready.kind === "line") {
      const onData = () => {
        const m = ready.pattern.exec(output);
        if (m && ready.url) finish(undefined, ready.url);
        else if (m?.[1]) finish(undefined, new URL(m[1]));
      };
      child.stdout?.on("data", onData);
      child.stderr?.on("data", onData);
    } else {
      const probe = async () => {
        if (settled || child.exitCode !== null || child.signalCode !== null) return;
        const ok = ready.kind === "port" ? await tcpOpen(ready.url) : await answers(ready.url, ready.ok2xx);
        if (ok) finish(undefined, new URL(ready.url.origin));
        else setTimeout(probe, READY_POLL_MS);
      };
      setTimeout(probe, READY_POLL_MS);
    }
    child.once("error", (error) =>
      finish(new TargetError(`cannot start target "${spec.name}" (${spec.command}): ${error.message}`)),
    );
    child.once("exit", (code, signal) => finish(new TargetError(exitDescription(code, signal))));
  });

  const died = new Promise<string>((resolve) => {
    child.once("exit", (code, signal) => {
      if (stopping) return;
      keepOutput();
      resolve(exitDescription(code, signal));
    });
  });
  const statsClient = new ProfileStats(url, spec.profile.stats);
  const pid = child.pid as number;
  return {
    name: spec.name,
    url,
    pid,
    profile: spec.profile,
    adapter: adapterFromProfile(spec.profile),
    procSample: () => (spec.group ? readProcessTree(pid) : readProcess(pid)),
    stats: (gc?: boolean): Promise<TargetStats | undefined> => statsClient.read(gc),
    statsFaults: () => statsClient.faults,
    died,
    async checkGone() {
      // Its sockets close a moment before the exit is reaped: give the exit event a short while.
      const grace = new Promise<undefined>((r) => setTimeout(() => r(undefined), EXIT_GRACE_MS));
      return Promise.race([died, grace]);
    },
    async stop() {
      stopping = true;
      await statsClient.close();
      if (spec.group) await stopGroup(child, spec.stopGraceMs ?? 5_000);
      else await stopProcess(child, spec.stopGraceMs);
    },
  };
}

function describeReadiness(r: Readiness): string {
  if (r.kind === "line") return `waiting for a line matching ${r.pattern}`;
  if (r.kind === "port") return `waiting for ${r.url.host} to accept connections`;
  return `waiting for ${r.url.href} to answer${r.ok2xx ? " 2xx" : ""}`;
}

function killGroup(child: ChildProcess, group: boolean, signal: NodeJS.Signals): void {
  try {
    if (group && child.pid !== undefined) process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch {
    // already gone
  }
}

/** stopProcess for the whole process group; then what outlived the leader gets SIGKILL. */
async function stopGroup(child: ChildProcess, graceMs: number): Promise<void> {
  await stopProcess(child, graceMs, (signal) => killGroup(child, true, signal));
  killGroup(child, true, "SIGKILL");
}
