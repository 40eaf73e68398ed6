// Helpers for the child processes the harness starts (targets and driver workers alike): how to run
// a TypeScript entry point under tsx, and how to stop a child (SIGTERM, then SIGKILL).

import type { ChildProcess } from "node:child_process";

/** Node flags that run a .ts entry point (tsx's loader), for fork and spawn alike. */
export function tsxNodeArgs(): string[] {
  return ["--import", import.meta.resolve("tsx")];
}

/** SIGTERM, then SIGKILL after a grace period; resolves when the process has exited. */
export async function stopProcess(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}
