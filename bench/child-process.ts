// Helpers for the child processes the harness starts (targets and driver workers alike): how to run
// a TypeScript entry point under tsx, how to stop a child (SIGTERM, then SIGKILL), and where and how
// it is scheduled (CPU pinning with taskset, the scheduling policy with chrt).

import { type ChildProcess, execFileSync, spawnSync } from "node:child_process";

/** Node flags that run a .ts entry point (tsx's loader), for fork and spawn alike. */
export function tsxNodeArgs(): string[] {
  return ["--import", import.meta.resolve("tsx")];
}

/**
 * SIGTERM, then SIGKILL after a grace period; resolves when the process has exited. `signal` sends
 * a signal (default: to the child alone; a process group's stop sends it to the whole group).
 */
export async function stopProcess(
  child: ChildProcess,
  graceMs = 5_000,
  signal: (s: NodeJS.Signals) => void = (s) => child.kill(s),
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  signal("SIGTERM");
  const timer = setTimeout(() => signal("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * Pin processes (every thread: -a) to a CPU list with util-linux's taskset, e.g. "0" or "2-3".
 * Children forked later inherit it. Throws with taskset's own message when the list is not valid here.
 */
export function pinToCpus(pids: readonly number[], cpus: string): void {
  forEachPid(pids, "taskset", ["-a", "-p", "-c", cpus], `pin pid %p to CPUs ${cpus}`);
}

/** Run a util-linux tool that takes the pid last, once per pid; its own message in the error. */
function forEachPid(pids: readonly number[], tool: string, args: string[], what: string): void {
  for (const pid of pids) {
    try {
      execFileSync(tool, [...args, String(pid)], { stdio: ["ignore", "ignore", "pipe"] });
    } catch (error) {
      const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
      throw new Error(
        `${tool} could not ${what.replace("%p", String(pid))}: ${stderr || (error as Error).message}`,
      );
    }
  }
}

/**
 * Linux scheduling policies for the driver workers (--driver-sched). "batch" (SCHED_BATCH): a worker
 * woken by an answer does not preempt the process that is running, it runs when a CPU is free or at
 * the scheduler's next tick; "normal" (SCHED_OTHER) is every process's default.
 */
export const SCHED_POLICIES = ["batch", "normal"] as const;
export type SchedPolicy = (typeof SCHED_POLICIES)[number];

/** Can this host set a process's scheduling policy (Linux with util-linux's chrt)? */
export function canSetSchedPolicy(): boolean {
  return process.platform === "linux" && spawnSync("chrt", ["--version"]).status === 0;
}

/** Set the scheduling policy of processes (every thread: -a) with chrt. Throws with chrt's message. */
export function setSchedPolicy(pids: readonly number[], policy: SchedPolicy): void {
  forEachPid(pids, "chrt", ["-a", policy === "batch" ? "-b" : "-o", "-p", "0"], `set pid %p to ${policy}`);
}
