// Runs one of the harness's commands as a user would (node + tsx, a fresh process) and collects its
// exit code and output, for the CLI tests.

import { type ChildProcess, spawn } from "node:child_process";
import { tsxNodeArgs } from "../child-process.ts";

export interface CliOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(
  script: string,
  args: string[],
  onStderr?: (text: string, child: ChildProcess) => void,
  cwd?: string,
): Promise<CliOutcome> {
  const child = spawn(process.execPath, [...tsxNodeArgs(), script, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    ...(cwd ? { cwd } : {}),
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString();
    onStderr?.(stderr, child);
  });
  return new Promise((resolve) => child.on("exit", (code) => resolve({ code, stdout, stderr })));
}
