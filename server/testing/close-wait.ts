// Sockets on this host whose local port is `port` and whose peer has closed while this side has
// not (TCP state CLOSE-WAIT, 08 in /proc/net/tcp and tcp6): a server that never noticed a client
// leave. For the tests and probes of the server; 0 where /proc cannot be read.

import { readFileSync } from "node:fs";

export function closeWaitCount(port: number): number {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  let n = 0;
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[1]?.endsWith(hex) && f[3] === "08") n++;
    }
  }
  return n;
}
