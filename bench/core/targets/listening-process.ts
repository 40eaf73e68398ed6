// The process behind a loopback port: a target attached by URL still runs on this host, and /proc
// has its CPU and memory. Its listening socket's inode is in /proc/net/tcp (or tcp6); the process
// that holds a descriptor for that socket (/proc/PID/fd → socket:[inode]) is the server. Where it
// cannot be found (a process of another user, whose descriptors this user cannot read; another
// network namespace or container, whose sockets are not in this /proc/net; a proxy in between),
// the figures stay absent and the reason is said.

import { readdirSync, readFileSync, readlinkSync } from "node:fs";

const LISTEN = "0A";

/** Inodes of the sockets listening on this port (any local address), IPv4 and IPv6. */
export function listeningInodes(port: number, files = ["/proc/net/tcp", "/proc/net/tcp6"]): Set<string> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  const inodes = new Set<string>();
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      if (f.length < 10 || f[3] !== LISTEN) continue;
      if ((f[1] ?? "").split(":")[1] === hexPort && f[9] !== "0") inodes.add(f[9] as string);
    }
  }
  return inodes;
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

export type Found = { pid: number; command: string } | { reason: string };

/**
 * The top process holding a listening socket of this port (a server whose workers share its socket:
 * the one they descend from). Never the harness or one of its ancestors (a test that serves from its
 * own process): their figures would be the harness's.
 */
export function findListeningProcess(port: number, self = process.pid): Found {
  const inodes = listeningInodes(port);
  if (inodes.size === 0)
    return { reason: `no socket listens on port ${port} in this network namespace (a container or proxy?)` };
  const holders: number[] = [];
  let unreadable = 0;
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${name}/fd`);
    } catch {
      unreadable++;
      continue;
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${name}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
      if (inode !== undefined && inodes.has(inode)) {
        holders.push(Number(name));
        break;
      }
    }
  }
  if (holders.length === 0)
    return {
      reason: `the process listening on port ${port} is not readable here${unreadable ? ` (${unreadable} processes' descriptors could not be read: another user's?)` : ""}`,
    };
  const set = new Set(holders);
  const tops = holders.filter((pid) => !set.has(parentOf(pid) ?? -1));
  const ancestors = new Set<number>();
  for (let p: number | undefined = self; p !== undefined && p > 1; p = parentOf(p)) ancestors.add(p);
  const top = tops.find((pid) => !ancestors.has(pid));
  if (top === undefined)
    return { reason: `port ${port} is served by the harness's own process or an ancestor of it` };
  let command = "";
  try {
    command = readFileSync(`/proc/${top}/comm`, "utf8").trim();
  } catch {
    // gone meanwhile: the sampler will find nothing, and say so
  }
  return { pid: top, command };
}
