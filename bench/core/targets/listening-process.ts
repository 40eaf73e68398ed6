// The process behind a loopback port: a target attached by URL still runs on this host, and /proc
// has its CPU and memory. Its listening socket's inode is in /proc/net/tcp (or tcp6); the process
// that holds a descriptor for that socket (/proc/PID/fd → socket:[inode]) is the server. Where it
// cannot be found (a process of another user, whose descriptors this user cannot read; another
// network namespace or container, whose sockets are not in this /proc/net; a proxy in between),
// the figures stay absent and the reason is said.

import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { parentOf, TCP_STATE, tcpSocketInodes } from "../metrics/proc.ts";

/** Inodes of the sockets listening on this port (any local address), IPv4 and IPv6. */
export function listeningInodes(port: number): Set<string> {
  // An inode of 0 is a socket being torn down: no process holds it.
  return new Set(tcpSocketInodes(port, TCP_STATE.listen).filter((inode) => inode !== "0"));
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
