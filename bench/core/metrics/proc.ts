// Readers of Linux /proc: a process's CPU time and RSS, the host's file and port limits, and the
// kernel's listen-queue counters. Each returns undefined where the file is missing (not Linux, or
// the process is gone), never throws.

import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

export interface ProcSample {
  /** User + system CPU time, microseconds. */
  cpuUs: number;
  rssBytes: number;
}

export function readProcess(pid: number): ProcSample | undefined {
  const stat = read(`/proc/${pid}/stat`);
  const status = read(`/proc/${pid}/status`);
  if (!stat || !status) return undefined;
  // Fields after the parenthesised command name, which may itself contain spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { cpuUs: (ticks * 1e6) / ticksPerSecond(), rssBytes: rssKb * 1024 };
}

/** The parent pid of a process, from /proc/<pid>/stat (undefined when gone). */
export function parentOf(pid: number): number | undefined {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}

/** TCP states as /proc/net/tcp writes them. */
export const TCP_STATE = { listen: "0A", closeWait: "08" } as const;

/**
 * The inodes of this network namespace's TCP sockets (IPv4 and IPv6) whose local port is `port` and
 * whose state is `state`; none where /proc cannot be read.
 */
export function tcpSocketInodes(port: number, state: string): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  const inodes: string[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of (read(table) ?? "").split("\n").slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const f = line.trim().split(/\s+/);
      if (f.length >= 10 && f[3] === state && (f[1] ?? "").split(":")[1] === hexPort)
        inodes.push(f[9] as string);
    }
  }
  return inodes;
}

/** A process and every descendant alive now. */
export function processTree(root: number): number[] {
  let pids: number[];
  try {
    pids = readdirSync("/proc")
      .filter((n) => /^\d+$/.test(n))
      .map(Number);
  } catch {
    return [root];
  }
  const children = new Map<number, number[]>();
  for (const pid of pids) {
    const parent = parentOf(pid);
    if (parent === undefined) continue;
    const list = children.get(parent);
    if (list) list.push(pid);
    else children.set(parent, [pid]);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop() as number;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** CPU and RSS summed over a process and its descendants (a user's command: a shell, its server, workers). */
export function readProcessTree(root: number): ProcSample | undefined {
  const top = readProcess(root);
  if (!top) return undefined;
  let cpuUs = top.cpuUs;
  let rssBytes = top.rssBytes;
  for (const pid of processTree(root).slice(1)) {
    const s = readProcess(pid);
    if (!s) continue;
    cpuUs += s.cpuUs;
    rssBytes += s.rssBytes;
  }
  return { cpuUs, rssBytes };
}

/** The soft limit on open files of this process (children inherit it). */
export function openFileLimit(): number | undefined {
  const limits = read("/proc/self/limits");
  const m = limits && /Max open files\s+(\d+|unlimited)/.exec(limits);
  if (!m) return undefined;
  return m[1] === "unlimited" ? Number.POSITIVE_INFINITY : Number(m[1]);
}

/** Number of ephemeral ports (net.ipv4.ip_local_port_range). */
export function ephemeralPortCount(): number | undefined {
  const range = read("/proc/sys/net/ipv4/ip_local_port_range");
  if (!range) return undefined;
  const [low, high] = range.trim().split(/\s+/).map(Number);
  return low !== undefined && high !== undefined ? high - low + 1 : undefined;
}

export function somaxconn(): number | undefined {
  const text = read("/proc/sys/net/core/somaxconn");
  return text ? Number(text.trim()) : undefined;
}

export interface ListenCounters {
  overflows: number;
  drops: number;
}

/** Host-wide TcpExt ListenOverflows / ListenDrops (accept queue full), from /proc/net/netstat. */
export function listenCounters(): ListenCounters | undefined {
  const text = read("/proc/net/netstat");
  if (!text) return undefined;
  const lines = text.split("\n").filter((l) => l.startsWith("TcpExt:"));
  if (lines.length < 2) return undefined;
  const names = (lines[0] as string).split(/\s+/);
  const values = (lines[1] as string).split(/\s+/).map(Number);
  const get = (name: string) => values[names.indexOf(name)] ?? 0;
  return { overflows: get("ListenOverflows"), drops: get("ListenDrops") };
}

export function cpuModel(): string {
  const info = read("/proc/cpuinfo");
  return /model name\s*:\s*(.+)/.exec(info ?? "")?.[1]?.trim() ?? "unknown";
}
